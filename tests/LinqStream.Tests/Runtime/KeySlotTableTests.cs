using LinqStream.Runtime.Tables;

// The dictionary path is tested with nullable keys too (the operators never give the table a null one).
#pragma warning disable CS8714

namespace LinqStream.Tests.Runtime;

/// <summary>The key table against <see cref="Dictionary{TKey, TValue}"/> on random operation sequences, for every kind of key it serves.</summary>
public sealed class KeySlotTableTests
{
    private enum Colour : short
    {
        Red = -3,
        Green = 0,
        Blue = 12_000,
    }

    private enum Op
    {
        AddOrSet,
        Get,
        Remove,
        Add,
        Clear,
        Trim,
    }

    [Fact]
    public void PrimitiveKeys_UseOpenAddressing_OtherKeys_ADictionary()
    {
        Assert.True(new KeySlotTable<long>().IsOpenAddressing);
        Assert.True(new KeySlotTable<int>().IsOpenAddressing);
        Assert.True(new KeySlotTable<ulong>().IsOpenAddressing);
        Assert.True(new KeySlotTable<byte>().IsOpenAddressing);
        Assert.True(new KeySlotTable<char>().IsOpenAddressing);
        Assert.True(new KeySlotTable<Guid>().IsOpenAddressing);
        Assert.True(new KeySlotTable<Colour>().IsOpenAddressing);

        // Their equality is not their bits (0.0 == -0.0; DateTime ignores its kind) or is their own: a dictionary.
        Assert.False(new KeySlotTable<double>().IsOpenAddressing);
        Assert.False(new KeySlotTable<DateTime>().IsOpenAddressing);
        Assert.False(new KeySlotTable<long?>().IsOpenAddressing);
        Assert.False(new KeySlotTable<(long, long)>().IsOpenAddressing);
        Assert.False(new KeySlotTable<string>().IsOpenAddressing);
    }

    public static TheoryData<int, int> Seeds()
    {
        var data = new TheoryData<int, int>();
        foreach (int seed in new[] { 1, 2, 3, 4 })
        {
            // Key ranges: a few keys (hits, removes of present keys), many (growth), sparse (misses).
            foreach (int range in new[] { 8, 300, 20_000 })
            {
                data.Add(seed, range);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void LongKeys_RandomOperations_AsADictionary(int seed, int range)
    {
        var random = new Random(seed);
        long[] special = [0, -1, 1, long.MinValue, long.MaxValue, long.MinValue + 1, long.MaxValue - 1, 1L << 32, -(1L << 40)];
        Check(random, range, () => random.Next(10) == 0 ? special[random.Next(special.Length)] : random.NextInt64(-range, range) * 7919);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void IntKeys_RandomOperations_AsADictionary(int seed, int range)
    {
        var random = new Random(seed);
        int[] special = [0, -1, int.MinValue, int.MaxValue];
        Check(random, range, () => random.Next(10) == 0 ? special[random.Next(special.Length)] : random.Next(-range, range));
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void GuidKeys_RandomOperations_AsADictionary(int seed, int range)
    {
        var random = new Random(seed);

        // Guids that differ in one half only, and ones from a small pool (so they repeat).
        Check(random, range, () =>
        {
            var bytes = new byte[16];
            int n = random.Next(range);
            BitConverter.TryWriteBytes(bytes.AsSpan(random.Next(2) * 8), (long)n);
            return new Guid(bytes);
        });
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void EnumAndByteKeys_RandomOperations_AsADictionary(int seed, int range)
    {
        var random = new Random(seed);
        Check(random, range, () => (Colour)random.Next(-range, range));
        Check(random, range, () => (byte)random.Next(256));
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void DictionaryKeys_RandomOperations_AsADictionary(int seed, int range)
    {
        var random = new Random(seed);
        Check(random, range, () => random.Next(5) == 0 ? null : (long?)random.Next(range));
        Check(random, range, () => (random.Next(range), (long)random.Next(3)));
        Check(random, range, () => random.Next(range).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void KeysThatShareAHomeBucket_AreFoundAfterRemovesInTheirRun()
    {
        // Keys whose top 4 bits of key * golden agree all start their probe at the same entry of a 16-entry table: one long run,
        // removed from the front, the middle and the end (the backward shift must keep every other key reachable).
        ulong multiplier = KeySlotTable<long>.MultiplierFor(60);
        var sameHome = new List<long>();
        for (long k = -1_000_000; sameHome.Count < 9; k++)
        {
            if (((ulong)k * PrimitiveKeyHasher<long>.Golden * multiplier) >> 60 == 5)
            {
                sameHome.Add(k);
            }
        }

        for (int removeFirst = 0; removeFirst < sameHome.Count; removeFirst++)
        {
            var table = new KeySlotTable<long>();
            var model = new Dictionary<long, int>();
            foreach (long k in sameHome)
            {
                table.Add(k, (int)k);
                model.Add(k, (int)k);
            }

            // Neighbours of the run: keys of the next home buckets, wrapped around the end of the table too.
            for (long k = 0; model.Count < 10; k++)
            {
                if (((ulong)k * PrimitiveKeyHasher<long>.Golden * multiplier) >> 60 is 6 or 15 or 0 && !model.ContainsKey(k))
                {
                    table.Add(k, (int)k);
                    model.Add(k, (int)k);
                }
            }

            Assert.True(table.Remove(sameHome[removeFirst]));
            model.Remove(sameHome[removeFirst]);
            Assert.False(table.Remove(sameHome[removeFirst]));
            AssertSame(model, table);
            foreach (long k in sameHome.Skip(removeFirst + 1).Reverse())
            {
                Assert.True(table.Remove(k));
                model.Remove(k);
                AssertSame(model, table);
            }
        }
    }

    [Fact]
    public void TablesOfDifferentCapacities_OrderKeysDifferently()
    {
        // A table's keys copied in its own order into a smaller table: neighbours there must not share homes here.
        var big = new KeySlotTable<long>(100_000);
        for (long k = 0; k < 60_000; k++)
        {
            big.Add(k, (int)k);
        }

        var order = Pairs(big).Select(p => p.Key).ToList();
        var small = new KeySlotTable<long>();
        foreach (long k in order)
        {
            small.Add(k, (int)k);
        }

        Assert.Equal(60_000, small.Count);
        Assert.NotEqual(order.Take(1000), Pairs(small).Select(p => p.Key).Take(1000));
        Assert.NotEqual(KeySlotTable<long>.MultiplierFor(47), KeySlotTable<long>.MultiplierFor(48));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(20_000)]
    public void EnsureCapacity_HoldsThatManyKeysWithoutGrowing_NeverShrinks_KeepsTheKeys(int present)
    {
        // Issue #19 (speed14): the window join sizes its table for a window's left events at once.
        foreach (var table in new KeySlotTable<long>[] { new(), new(50_000) })
        {
            var model = new Dictionary<long, int>();
            var random = new Random(present);
            while (model.Count < present)
            {
                long key = random.NextInt64(long.MinValue, long.MaxValue);
                if (model.TryAdd(key, model.Count))
                {
                    table.Add(key, model[key]);
                }
            }

            int before = table.Capacity;
            table.EnsureCapacity(30_000);
            int sized = table.Capacity;
            Assert.True(sized >= 30_000 && sized >= before, $"capacity {sized} after {before}");
            AssertSame(model, table);
            while (model.Count < 30_000)
            {
                long key = random.NextInt64(long.MinValue, long.MaxValue);
                if (model.TryAdd(key, model.Count))
                {
                    table.Add(key, model[key]);
                }
            }

            Assert.Equal(sized, table.Capacity); // no growth while filling up to what was asked for
            table.EnsureCapacity(10);
            Assert.Equal(sized, table.Capacity); // never shrinks
            AssertSame(model, table);
        }

        var strings = new KeySlotTable<string>();
        strings.EnsureCapacity(1_000); // the dictionary path takes it too
        strings.Add("a", 1);
        Assert.True(strings.TryGetValue("a", out int one) && one == 1);
    }

    [Fact]
    public void Grows_Trims_AndClears()
    {
        var table = new KeySlotTable<long>();
        for (long k = 0; k < 100_000; k++)
        {
            table.GetValueRefOrAddDefault(k * 1_000_003, out bool exists) = (int)k;
            Assert.False(exists);
        }

        Assert.Equal(100_000, table.Count);
        int grown = table.Capacity;
        Assert.True(grown >= 100_000);
        for (long k = 0; k < 99_990; k++)
        {
            Assert.True(table.Remove(k * 1_000_003));
        }

        table.TrimExcess();
        Assert.True(table.Capacity < 64);
        Assert.Equal(10, table.Count);
        for (long k = 99_990; k < 100_000; k++)
        {
            Assert.True(table.TryGetValue(k * 1_000_003, out int value));
            Assert.Equal((int)k, value);
        }

        table.Clear();
        Assert.Equal(0, table.Count);
        Assert.False(table.TryGetValue(99_999 * 1_000_003L, out _));
        Assert.Empty(Pairs(table));
        Assert.Throws<ArgumentException>(() =>
        {
            table.Add(1, 1);
            table.Add(1, 2);
        });
    }

    [Fact]
    public void PresizedTable_HoldsItsKeysWithoutGrowing()
    {
        var table = new KeySlotTable<int>(1000);
        int capacity = table.Capacity;
        Assert.True(capacity >= 1000);
        for (int k = 0; k < 1000; k++)
        {
            table.Add(k, k);
        }

        Assert.Equal(capacity, table.Capacity);
    }

    private static void Check<TKey>(Random random, int range, Func<TKey> nextKey)
    {
        var table = new KeySlotTable<TKey>();
        var model = new Dictionary<TKey, int>();
        int operations = Math.Min(20_000, range * 20);
        for (int n = 0; n < operations; n++)
        {
            var key = nextKey();
            if (key is null)
            {
                // The operators look null keys up before the table; the table is never given one.
                continue;
            }

            int value = random.Next();
            var op = (Op)Pick(random);
            switch (op)
            {
                case Op.AddOrSet:
                {
                    ref int slot = ref table.GetValueRefOrAddDefault(key, out bool exists);
                    Assert.Equal(model.ContainsKey(key), exists);
                    Assert.Equal(exists ? model[key] : 0, slot);
                    slot = value;
                    model[key] = value;
                    break;
                }

                case Op.Get:
                    Assert.Equal(model.TryGetValue(key, out int expected), table.TryGetValue(key, out int actual));
                    Assert.Equal(expected, actual);
                    break;
                case Op.Remove:
                    Assert.Equal(model.Remove(key), table.Remove(key));
                    break;
                case Op.Add:
                    if (model.TryAdd(key, value))
                    {
                        table.Add(key, value);
                    }
                    else
                    {
                        Assert.Throws<ArgumentException>(() => table.Add(key, value));
                    }

                    break;
                case Op.Clear:
                    table.Clear();
                    model.Clear();
                    break;
                default:
                    table.TrimExcess(random.Next(3) == 0 ? random.Next(range) : 0);
                    Assert.True(table.Capacity >= model.Count);
                    break;
            }

            Assert.Equal(model.Count, table.Count);
            if (n % 2003 == 0)
            {
                AssertSame(model, table);
            }
        }

        AssertSame(model, table);
    }

    private static int Pick(Random random)
    {
        // Mostly adds, lookups and removes; a clear and a trim now and then.
        int r = random.Next(1000);
        return r < 400 ? (int)Op.AddOrSet : r < 700 ? (int)Op.Get : r < 950 ? (int)Op.Remove : r < 990 ? (int)Op.Add : r < 993 ? (int)Op.Clear : (int)Op.Trim;
    }

    private static List<KeyValuePair<TKey, int>> Pairs<TKey>(KeySlotTable<TKey> table)
    {
        var pairs = new List<KeyValuePair<TKey, int>>();
        foreach (var pair in table)
        {
            pairs.Add(pair);
        }

        return pairs;
    }

    private static void AssertSame<TKey>(Dictionary<TKey, int> model, KeySlotTable<TKey> table)
    {
        var pairs = Pairs(table);
        Assert.Equal(model.Count, pairs.Count);
        Assert.Equal(model.Count, pairs.Select(p => p.Key).Distinct().Count());
        foreach (var (key, value) in pairs)
        {
            Assert.Equal(model[key], value);
        }

        foreach (var (key, value) in model)
        {
            Assert.True(table.TryGetValue(key, out int found));
            Assert.Equal(value, found);
        }
    }
}
