using System.IO.Hashing;
using LinqStream.Parallel;

namespace LinqStream.Tests.Parallel;

public sealed class StableKeyHashTests
{
    private static readonly int[] Parallelisms = [1, 2, 3, 4, 7];

    public sealed record Pair(string? Name, long Id);

    private static ulong Spec(params byte[] bytes) => XxHash3.HashToUInt64(bytes);

    [Fact]
    public void Hash_Long_IsXxHash3OfItsLittleEndianBytes()
    {
        Assert.Equal(Spec(BitConverter.GetBytes(42L)), StableKeyHash<long>.Hash(42L));
        Assert.Equal(Spec(BitConverter.GetBytes(long.MinValue)), StableKeyHash<long>.Hash(long.MinValue));
    }

    [Fact]
    public void Hash_String_IsXxHash3OfUtf8()
    {
        Assert.Equal(Spec("auction-ü-7"u8.ToArray()), StableKeyHash<string>.Hash("auction-ü-7"));
        var longText = new string('x', 3000) + "é";
        Assert.Equal(XxHash3.HashToUInt64(System.Text.Encoding.UTF8.GetBytes(longText)), StableKeyHash<string>.Hash(longText));
    }

    [Fact]
    public void Hash_FixedValues_AreTheSameInEveryProcess()
    {
        // Golden values: string.GetHashCode is randomized per process, these must never change (checkpoints and routing depend on them).
        Assert.Equal(0x_0000000000000000UL, StableKeyHash<string?>.Hash(null));
        Assert.Equal(Spec([.. BitConverter.GetBytes(7), .. BitConverter.GetBytes(3)]), StableKeyHash<(int, int)>.Hash((7, 3)));
        Assert.Equal(StableKeyHash<string>.Hash("abc"), XxHash3.HashToUInt64("abc"u8));
        Assert.Equal(6341216333350340086UL, StableKeyHash<string>.Hash("auction-42"));
        Assert.Equal(2084821426177093722UL, StableKeyHash<long>.Hash(1_000_007L));
        Assert.Equal(12865580256388703920UL, StableKeyHash<(string, int)>.Hash(("bidder", 9)));
    }

    [Fact]
    public void Hash_CompositeKeys_EncodeMembersInOrderWithNullTagsAndLengths()
    {
        // (string?, long): tag 1, length 2, "ab", then 8 bytes of 5.
        byte[] expected = [1, 2, 0, 0, 0, (byte)'a', (byte)'b', .. BitConverter.GetBytes(5L)];
        Assert.Equal(Spec(expected), StableKeyHash<(string?, long)>.Hash(("ab", 5L)));
        Assert.Equal(Spec(expected), StableKeyHash<Pair>.Hash(new Pair("ab", 5)));
        var anonymous = new { Name = (string?)"ab", Id = 5L };
        Assert.Equal(Spec(expected), Hash(anonymous));
        byte[] nullName = [0, .. BitConverter.GetBytes(5L)];
        Assert.Equal(Spec(nullName), StableKeyHash<Pair>.Hash(new Pair(null, 5)));
    }

    [Fact]
    public void Hash_EqualValuesWithDifferentBits_HashAlike()
    {
        Assert.Equal(StableKeyHash<decimal>.Hash(1.0m), StableKeyHash<decimal>.Hash(1.00m));
        Assert.Equal(StableKeyHash<double>.Hash(0.0), StableKeyHash<double>.Hash(-0.0));
        Assert.Equal(StableKeyHash<double?>.Hash(double.NaN), StableKeyHash<double?>.Hash(-double.NaN));
        var now = new DateTimeOffset(2026, 12, 3, 20, 0, 0, TimeSpan.Zero);
        Assert.Equal(StableKeyHash<DateTimeOffset>.Hash(now), StableKeyHash<DateTimeOffset>.Hash(now.ToOffset(TimeSpan.FromHours(5))));
        Assert.NotEqual(StableKeyHash<decimal>.Hash(1.0m), StableKeyHash<decimal>.Hash(1.1m));
    }

    [Fact]
    public void Hash_ManyKeys_SpreadEvenlyOverKeyGroups()
    {
        const int Groups = 128, Keys = 128_000;
        var counts = new int[Groups];
        for (long k = 0; k < Keys; k++)
        {
            counts[KeyGroups.Of(StableKeyHash<long>.Hash(k), Groups)]++;
        }

        // 1,000 expected per group; a binomial's standard deviation is about 31, so ±20% is far outside chance.
        Assert.All(counts, c => Assert.InRange(c, 800, 1200));
        var strings = new int[Groups];
        for (int k = 0; k < Keys; k++)
        {
            strings[KeyGroups.Of(StableKeyHash<string>.Hash("user-" + k), Groups)]++;
        }

        Assert.All(strings, c => Assert.InRange(c, 800, 1200));
    }

    [Fact]
    public void KeyGroups_TasksOwnContiguousRangesThatCoverEveryGroupOnce()
    {
        foreach (int groups in new[] { 1, 7, 128, 1000 })
        {
            foreach (int parallelism in Parallelisms.Where(p => p <= groups))
            {
                var owners = KeyGroups.Owners(groups, parallelism);
                int next = 0;
                for (int task = 0; task < parallelism; task++)
                {
                    var (first, end) = KeyGroups.RangeOf(task, groups, parallelism);
                    Assert.Equal(next, first);
                    Assert.True(end > first, $"task {task} of {parallelism} owns no key group of {groups}");
                    for (int g = first; g < end; g++)
                    {
                        Assert.Equal(task, owners[g]);
                    }

                    next = end;
                }

                Assert.Equal(groups, next);
            }
        }
    }

    [Fact]
    public void KeyGroups_FollowHashOrder()
    {
        var random = new Random(16);
        var hashes = Enumerable.Range(0, 10_000).Select(_ => (ulong)random.NextInt64() * 2).Order().ToArray();
        var groups = hashes.Select(h => KeyGroups.Of(h, 128)).ToArray();
        Assert.Equal(groups.Order(), groups);
        Assert.Equal(0, KeyGroups.Of(0, 128));
        Assert.Equal(127, KeyGroups.Of(ulong.MaxValue, 128));
    }

    [Fact]
    public void KeyOrder_SortsByHashThenEncodingAndIsIndependentOfArrival()
    {
        var keys = Enumerable.Range(0, 500).Select(i => "k" + (i * 7919 % 1000)).ToArray();
        var forward = Sorted(keys);
        var backward = Sorted(keys.Reverse());
        Assert.Equal(forward, backward);
        Assert.Equal(forward.OrderBy(StableKeyHash<string>.Hash).ToArray(), forward);
    }

    /// <summary>Below and above the radix sort's threshold, reused across windows and after a trim: keys come out by hash, with their slots.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(KeyOrder<long>.RadixThreshold - 1)]
    [InlineData(KeyOrder<long>.RadixThreshold)]
    [InlineData(KeyOrder<long>.RadixThreshold + 1)]
    [InlineData(10_000)]
    public void KeyOrder_RadixAndComparisonSorts_GiveTheHashOrderAcrossReuse(int count)
    {
        var order = new KeyOrder<long>();
        var random = new Random(count);
        for (int round = 0; round < 4; round++)
        {
            order.Clear();
            var keys = Enumerable.Range(0, count + round).Select(i => i % 7 == 0 ? long.MaxValue - i : random.NextInt64(long.MinValue, long.MaxValue)).Distinct().ToArray();
            for (int i = 0; i < keys.Length; i++)
            {
                order.Add(keys[i], 1_000 + i);
            }

            order.Sort();
            var expected = keys.Select((k, i) => (Key: k, Slot: 1_000 + i)).OrderBy(p => StableKeyHash<long>.Hash(p.Key)).ToArray();
            Assert.Equal(expected.Select(p => p.Key), Enumerable.Range(0, order.Count).Select(order.KeyAt));
            Assert.Equal(expected.Select(p => p.Slot), Enumerable.Range(0, order.Count).Select(order.SlotAt));
            if (round == 1)
            {
                order.Clear();
                order.TrimExcess();
            }
        }
    }

    /// <summary>The radix sort alone, on hashes built to share bytes (skipped passes), with duplicates (stability) and at the array's end.</summary>
    [Theory]
    [InlineData(0UL, 1)]
    [InlineData(0xFFFF_FFFF_0000_0000UL, 300)]
    [InlineData(0x00FF_00FF_00FF_00FFUL, 1_000)]
    [InlineData(ulong.MaxValue, 5_000)]
    public void RadixSort_IsAStableSortByValue(ulong varyingBits, int count)
    {
        var random = new Random(count);
        ulong fixedBits = (ulong)random.NextInt64() & ~varyingBits;
        var hashes = new ulong[count + 3];
        var order = new int[count + 3];
        for (int i = 0; i < count; i++)
        {
            hashes[i] = fixedBits | ((ulong)random.NextInt64() & varyingBits & (random.Next(4) == 0 ? 0xFFUL : ulong.MaxValue));
            order[i] = i;
        }

        var expected = hashes.Take(count).Select((h, i) => (Hash: h, Index: i)).OrderBy(p => p.Hash).ToArray(); // OrderBy is stable
        var hashScratch = new ulong[hashes.Length];
        var orderScratch = new int[hashes.Length];
        KeyOrder<long>.RadixSort(ref hashes, ref order, ref hashScratch, ref orderScratch, new int[8 * 256], count);
        Assert.Equal(expected.Select(p => p.Hash), hashes.Take(count));
        Assert.Equal(expected.Select(p => p.Index), order.Take(count));
    }

    private static string[] Sorted(IEnumerable<string> keys)
    {
        var order = new KeyOrder<string>();
        int slot = 0;
        foreach (var key in keys)
        {
            order.Add(key, slot++);
        }

        order.Sort();
        return Enumerable.Range(0, order.Count).Select(order.KeyAt).ToArray();
    }

    private static ulong Hash<T>(T key) => StableKeyHash<T>.Hash(key);
}
