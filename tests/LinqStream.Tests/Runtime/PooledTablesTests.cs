using System.Buffers;
using LinqStream.Physical.Join;
using LinqStream.Physical.Windows.KeyedFold;
using LinqStream.Runtime.Tables;

namespace LinqStream.Tests.Runtime;

/// <summary>
/// The operators' tables whose arrays come from <see cref="ArrayPool{T}.Shared"/> (<see cref="PooledArrays"/>, issue #19) against
/// plain references, with the pool made dirty on purpose: random keys (huge ones too), growth across many doublings, arrays
/// rented dirty (not zeroed), a second run after <c>Release</c> on the same tables and on new ones, and the pool's arrays overwritten
/// with garbage between steps, so a table that kept using an array it gave back would read the garbage and disagree with the
/// reference. After the runs, the pool holds no array twice (nothing was given back twice).
/// </summary>
public sealed class PooledTablesTests
{
    private static readonly long[] HugeKeys = [long.MinValue, long.MaxValue, long.MinValue + 1, long.MaxValue - 1, 0, -1];

    [Fact]
    public void Rent_PowerOfTwo_GivesExactlyThatLength_AndReturnOfAnyOtherLengthIsIgnored()
    {
        foreach (int length in new[] { 16, 32, 1 << 12, 1 << 20 })
        {
            var array = PooledArrays.Rent<long>(length);
            Assert.Equal(length, array.Length);
            PooledArrays.Return(array);
        }

        Assert.Equal(16, PooledArrays.Rent<int>(5).Length); // the pool's smallest bucket
        Assert.Equal(1024, PooledArrays.Rent<int>(1000).Length); // rounded up to a power of two
        Assert.Empty(PooledArrays.Rent<int>(0));
        PooledArrays.Return(new long[24]); // not a length the pool keeps: left to the collector, no exception
        PooledArrays.Return(new long[3]);
        PooledArrays.Return(Array.Empty<long>());
        Assert.Equal((16, 1024, 1 << 20), (PooledArrays.PowerOfTwoFor(0), PooledArrays.PowerOfTwoFor(1000), PooledArrays.PowerOfTwoFor((1 << 20) - 1)));
    }

    [Fact]
    public void Resize_CopiesTheFirstItems_AndGivesTheOldArrayBack()
    {
        var array = PooledArrays.Rent<int>(16);
        for (int i = 0; i < 16; i++)
        {
            array[i] = i * 7;
        }

        var old = array;
        PooledArrays.Resize(ref array, 64, 16);
        Assert.Equal(64, array.Length);
        Assert.NotSame(old, array);
        Assert.Equal(Enumerable.Range(0, 16).Select(i => i * 7), array.Take(16));
        PooledArrays.Release(ref array);
        Assert.Empty(array);
    }

    [Fact]
    public void Rent_ACovariantArrayInThePool_IsRefused()
    {
        // Someone gave ArrayPool<Base>.Shared a Derived[]: OwnedArrays.Store would write a Base into it unchecked.
        ArrayPool<Base>.Shared.Return(new Derived[16]);
        ArrayPool<Base>.Shared.Return(new Derived[16]);
        for (int i = 0; i < 4; i++)
        {
            var array = PooledArrays.Rent<Base>(16);
            Assert.Equal(typeof(Base[]), array.GetType());
            array[0] = new Base();
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void KeySlotTable_ReleasedAndUsedAgain_AndANewTableOnItsDirtyEntries_AgreeWithADictionary(int seed)
    {
        var random = new Random(seed);
        var table = new KeySlotTable<long>();
        for (int run = 0; run < 3; run++)
        {
            // A new table rents the entries the released one left dirty (Entry has no references: not cleared on return).
            var fresh = new KeySlotTable<long>();
            var reference = new Dictionary<long, int>();
            var freshReference = new Dictionary<long, int>();
            int range = run == 1 ? 500 : 40_000;
            for (int op = 0; op < 60_000; op++)
            {
                long key = random.Next(20) == 0 ? HugeKeys[random.Next(HugeKeys.Length)] : random.Next(range) * 0x3E3779B97F4A7C15L;
                Apply(table, reference, key, random.Next(10), op);
                Apply(fresh, freshReference, key ^ 0x5555, random.Next(10), op);
                if (op % 5_000 == 0)
                {
                    PoolPoison.Dirty(random, 1 << 17);
                }
            }

            AssertSame(reference, table);
            AssertSame(freshReference, fresh);
            table.Release();
            Assert.Equal(0, table.Count);
            fresh.Release();
            fresh.Release(); // a second release gives nothing back twice
            PoolPoison.Dirty(random, 1 << 17);
        }

        PoolPoison.AssertNoArrayTwice(1 << 14);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void JoinTables_TwoRunsOnReleasedTables_AgreeWithAReference_ThroughGrowthCompactionAndSweeps(int seed)
    {
        var random = new Random(seed);
        var live = new LiveEvents<Payload>();
        var keys = new KeyTable<long>();
        var expiry = new ExpiryHeap();
        for (int run = 0; run < 3; run++)
        {
            // Run 1 grows the tables through about eleven doublings; run 2 is small (dirty arrays much larger than it needs); run 3 grows again.
            RunJoinTables(random, live, keys, expiry, steps: run == 1 ? 2_000 : 12_000, lifetime: run == 1 ? 50 : 8_000);
            ReleaseTwice(random, () => live.Count + keys.Count + expiry.Count, live.Release, keys.Release, expiry.Release);
        }

        // New tables on the dirty arrays the released ones left.
        RunJoinTables(random, new LiveEvents<Payload>(), new KeyTable<long>(), new ExpiryHeap(), steps: 12_000, lifetime: 8_000);
        PoolPoison.AssertNoArrayTwice(1 << 14);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void FoldGroups_TwoRunsOnReleasedGroups_AgreeWithAReference(int seed)
    {
        var random = new Random(seed);
        var groups = new FoldGroups<long, long>();
        for (int run = 0; run < 3; run++)
        {
            RunFoldGroups(random, groups, steps: run == 1 ? 1_000 : 8_000);
            ReleaseTwice(random, () => groups.Count, groups.Release);
        }

        RunFoldGroups(random, new FoldGroups<long, long>(), steps: 8_000);
        PoolPoison.AssertNoArrayTwice(1 << 14);
    }

    /// <summary>Releases the tables (nothing left in them), releases them again (which must give nothing back twice), then makes the pool dirty.</summary>
    private static void ReleaseTwice(Random random, Func<int> count, params Action[] releases)
    {
        foreach (var release in releases)
        {
            release();
        }

        Assert.Equal(0, count());
        foreach (var release in releases)
        {
            release();
        }

        PoolPoison.Dirty(random, 1 << 17);
    }

    private static void Apply(KeySlotTable<long> table, Dictionary<long, int> reference, long key, int op, int value)
    {
        if (op < 5)
        {
            table.GetValueRefOrAddDefault(key, out bool exists) = value;
            Assert.Equal(reference.ContainsKey(key), exists);
            reference[key] = value;
        }
        else if (op < 8)
        {
            Assert.Equal(reference.TryGetValue(key, out int expected), table.TryGetValue(key, out int actual));
            Assert.Equal(expected, actual);
        }
        else
        {
            Assert.Equal(reference.Remove(key), table.Remove(key));
        }

        Assert.Equal(reference.Count, table.Count);
    }

    private static void AssertSame(Dictionary<long, int> reference, KeySlotTable<long> table)
    {
        var listed = new Dictionary<long, int>();
        foreach (var (key, value) in table)
        {
            listed.Add(key, value);
        }

        Assert.Equal(reference.OrderBy(p => p.Key), listed.OrderBy(p => p.Key));
    }

    /// <summary>
    /// What a join does with its live events of one side: each new event at the front of its key's list and on the expiry queue, the
    /// ended ones freed (their keys marked, swept now and then), and now and then a compaction (as <c>TemporalJoinOperator</c>'s).
    /// The reference is the list of live events per key, newest first.
    /// </summary>
    private static void RunJoinTables(Random random, LiveEvents<Payload> live, KeyTable<long> keys, ExpiryHeap expiry, int steps, int lifetime)
    {
        var reference = new Dictionary<long, List<Payload>>();
        var ends = new PriorityQueue<Payload, long>();
        int alive = 0, next = 0;
        long time = random.NextInt64(-1_000_000, 1_000_000);
        for (int step = 0; step < steps; step++)
        {
            time += random.Next(3);
            int adds = random.Next(5);
            for (int i = 0; i < adds; i++)
            {
                long key = random.Next(16) == 0 ? HugeKeys[random.Next(HugeKeys.Length)] : random.Next(steps) * -0x61C8864680B583EBL;
                long end = time + 1 + random.Next(lifetime);
                var payload = new Payload(next++, time, end, key);
                int id = keys.GetOrAdd(key);
                live.AddLinked(time, end, payload, id, keys, KeyTable<long>.Left, expiry);
                if (!reference.TryGetValue(key, out var list))
                {
                    reference[key] = list = [];
                }

                list.Insert(0, payload);
                ends.Enqueue(payload, end);
                alive++;
            }

            live.FreeEnded(expiry, keys, KeyTable<long>.Left, time);
            while (ends.TryPeek(out var ended, out long endsAt) && endsAt <= time)
            {
                ends.Dequeue();
                Assert.True(reference[ended.Key].Remove(ended));
                alive--;
            }

            Assert.Equal(alive, live.Count);
            if (random.Next(200) == 0)
            {
                keys.Sweep();
            }

            if (random.Next(1_500) == 0 || (live.ShouldCompact && random.Next(2) == 0))
            {
                var map = live.Compact();
                keys.RemapHeads(KeyTable<long>.Left, map);
                expiry.Remap(map);
                live.RemapEntries(keys.Compact());
            }

            if (step % 1_000 == 999)
            {
                PoolPoison.Dirty(random, 1 << 16);
                AssertLists(reference, live, keys);
            }
        }

        AssertLists(reference, live, keys);
    }

    private static void AssertLists(Dictionary<long, List<Payload>> reference, LiveEvents<Payload> live, KeyTable<long> keys)
    {
        foreach (var (key, expected) in reference)
        {
            var actual = new List<Payload>();
            if (keys.TryGet(key, out int id))
            {
                for (int slot = keys.Head(id, KeyTable<long>.Left); slot >= 0; slot = live.Next[slot])
                {
                    Assert.Equal((live.Start[slot], live.End[slot]), (live.Payload[slot].Start, live.Payload[slot].End));
                    Assert.Equal(id, live.Entry[slot]);
                    actual.Add(live.Payload[slot]);
                }
            }

            Assert.Equal(expected, actual);
        }
    }

    /// <summary>
    /// A keyed fold's groups: values added to their (close, key) group, closes at or after the watermark, the groups below a moving
    /// watermark taken out by close and freed. The reference: a dictionary of sums per group.
    /// </summary>
    private static void RunFoldGroups(Random random, FoldGroups<long, long> groups, int steps)
    {
        var reference = new Dictionary<(long Close, long Key), long>();
        long watermark = random.Next(2) == 0 ? 0 : long.MinValue / 2;
        for (int step = 0; step < steps; step++)
        {
            int adds = random.Next(12);
            for (int i = 0; i < adds; i++)
            {
                long close = random.Next(20) == 0 ? long.MaxValue / 4 - random.Next(3) : watermark + random.Next(20_000);
                long key = random.Next(16) == 0 ? HugeKeys[random.Next(HugeKeys.Length)] : random.Next(50);
                long value = random.NextInt64();
                int slot = groups.GetOrOpen(close, key, out bool opened);
                Assert.Equal(!reference.ContainsKey((close, key)), opened);
                ref var entry = ref groups.Slots[slot];
                Assert.Equal((close, key), (entry.Close, entry.Key));
                entry.State = opened ? value : unchecked(entry.State + value);
                reference[(close, key)] = reference.TryGetValue((close, key), out long sum) ? unchecked(sum + value) : value;
            }

            Assert.Equal(reference.Count, groups.Count);
            watermark += random.Next(60);
            var taken = new List<(long Close, long Key, long State)>();
            while (groups.TryTakeNext(watermark, out int slot))
            {
                var entry = groups.Slots[slot];
                taken.Add((entry.Close, entry.Key, entry.State));
                groups.Release(slot);
            }

            var expected = reference.Where(p => p.Key.Close < watermark).Select(p => (p.Key.Close, p.Key.Key, p.Value)).ToList();
            Assert.Equal(expected.Select(e => e.Close).Order(), taken.Select(e => e.Close)); // by close; within a close, key order
            Assert.Equal(expected.Order(), taken.Order());
            foreach (var e in expected)
            {
                reference.Remove((e.Close, e.Key));
            }

            if (step % 500 == 499)
            {
                PoolPoison.Dirty(random, 1 << 16);
            }
        }
    }

    public class Base;

    public sealed class Derived : Base;

    /// <summary>A live event's payload: its own lifetime and key, to check the columns against.</summary>
    public sealed record Payload(int Id, long Start, long End, long Key);
}

/// <summary>Fills the shared pool's arrays with garbage, and checks the pool holds no array twice.</summary>
internal static class PoolPoison
{
    /// <summary>Rents a few arrays of every pooled length up to <paramref name="maxLength"/> of the types the tables use, fills them with garbage and gives them back.</summary>
    public static void Dirty(Random random, int maxLength)
    {
        // Slot numbers and key entries that look valid (small), flags all set, ends and closes anywhere.
        Fill(maxLength, () => random.Next(-1, 64));
        Fill(maxLength, () => random.NextInt64(long.MinValue, long.MaxValue));
        Fill(maxLength, () => (byte)0xFF);
        Fill(maxLength, () => true);
        Fill(maxLength, () => new FoldGroups<long, long>.Entry { Close = random.Next(-1, 64), Key = random.Next(50), State = -1 });
    }

    /// <summary>Rents many arrays of each pooled length: the same array twice would mean one was given back twice.</summary>
    /// <remarks>
    /// A length's arrays sit in the renting thread's slot and in one stack per core (at most 32 each): 70 rents reach every array the
    /// pool holds of that length on this machine. The large lengths only for the column types, to keep the test's memory small.
    /// </remarks>
    public static void AssertNoArrayTwice(int maxLength)
    {
        Distinct<long>(maxLength);
        Distinct<int>(maxLength);
        Distinct<byte>(Math.Min(maxLength, 1 << 12));
        Distinct<bool>(Math.Min(maxLength, 1 << 12));
        Distinct<FoldGroups<long, long>.Entry>(Math.Min(maxLength, 1 << 12));
    }

    private static void Fill<T>(int maxLength, Func<T> garbage)
    {
        var rented = new List<T[]>();
        for (int length = PooledArrays.MinimumLength; length <= maxLength; length *= 2)
        {
            for (int k = 0; k < 4; k++)
            {
                var array = ArrayPool<T>.Shared.Rent(length);
                var value = garbage();
                array.AsSpan().Fill(value);
                rented.Add(array);
            }
        }

        foreach (var array in rented)
        {
            ArrayPool<T>.Shared.Return(array);
        }
    }

    private static void Distinct<T>(int maxLength)
    {
        var rented = new List<T[]>();
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        for (int length = PooledArrays.MinimumLength; length <= maxLength; length *= 2)
        {
            for (int k = 0; k < 70; k++)
            {
                var array = ArrayPool<T>.Shared.Rent(length);
                Assert.True(seen.Add(array), $"the pool gave the same {typeof(T).Name}[{length}] twice: it was given back twice");
                rented.Add(array);
            }
        }

        foreach (var array in rented)
        {
            ArrayPool<T>.Shared.Return(array);
        }
    }
}
