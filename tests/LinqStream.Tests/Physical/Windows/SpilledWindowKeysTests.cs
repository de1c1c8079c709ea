using LinqStream.Physical.Windows;

namespace LinqStream.Tests.Physical.Windows;

/// <summary>
/// The byte layout of spilled window groups orders keys as the spilled operator needs: by key group, then window start (negative
/// before positive, the extremes included), then stable hash, then encoding; and one window's groups of one key group are exactly
/// the range [WindowFrom, WindowLimit).
/// </summary>
public sealed class SpilledWindowKeysTests
{
    private sealed record Entry(int Group, long Start, ulong Hash, byte[] Key, byte[] Bytes);

    private static List<Entry> RandomEntries(int seed)
    {
        var random = new Random(seed);
        long[] starts = [long.MinValue, long.MinValue + 1, -1_000, -1, 0, 1, 999, long.MaxValue - 1, long.MaxValue];
        var entries = new List<Entry>();
        for (int i = 0; i < 2_000; i++)
        {
            int group = random.Next(0, 4) == 0 ? random.Next(0, 32_768) : random.Next(0, 3);
            long start = random.Next(0, 3) == 0 ? random.NextInt64(long.MinValue, long.MaxValue) : starts[random.Next(starts.Length)];
            ulong hash = random.Next(0, 3) == 0 ? (ulong)random.Next(0, 3) : (ulong)random.NextInt64(long.MinValue, long.MaxValue);
            var key = new byte[random.Next(0, 3) == 0 ? random.Next(0, 300) : random.Next(0, 3)];
            random.NextBytes(key);
            var bytes = new byte[SpilledWindowKeys.Prefix + key.Length];
            Assert.Equal(bytes.Length, SpilledWindowKeys.Write(bytes, group, start, hash, key));
            entries.Add(new Entry(group, start, hash, key, bytes));
        }

        return entries;
    }

    private static int CompareBytes(byte[] a, byte[] b) => a.AsSpan().SequenceCompareTo(b);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void ByteOrder_IsKeyGroupThenStartThenHashThenEncoding(int seed)
    {
        var entries = RandomEntries(seed);
        var byBytes = entries.OrderBy(e => e.Bytes, Comparer<byte[]>.Create(CompareBytes)).ToList();
        var byFields = entries.OrderBy(e => e.Group).ThenBy(e => e.Start).ThenBy(e => e.Hash)
            .ThenBy(e => e.Key, Comparer<byte[]>.Create(CompareBytes)).ToList();

        Assert.Equal(byFields.Select(e => e.Bytes), byBytes.Select(e => e.Bytes));
        Assert.All(entries, e => Assert.Equal((e.Start, e.Hash), (SpilledWindowKeys.StartOf(e.Bytes), SpilledWindowKeys.HashOf(e.Bytes))));
    }

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    public void WindowRange_HoldsExactlyThatKeyGroupsGroupsOfThatWindow_AndTheTableRangeAllOfTheKeyGroups(int seed)
    {
        var entries = RandomEntries(seed);
        foreach (var (group, start) in entries.Select(e => (e.Group, e.Start)).Distinct().Take(200))
        {
            byte[] from = SpilledWindowKeys.WindowFrom(group, start), to = SpilledWindowKeys.WindowLimit(group, start);
            var inRange = entries.Where(e => CompareBytes(e.Bytes, from) >= 0 && CompareBytes(e.Bytes, to) < 0);
            Assert.Equal(
                entries.Where(e => e.Group == group && e.Start == start).Select(e => e.Bytes).Order(Comparer<byte[]>.Create(CompareBytes)),
                inRange.Select(e => e.Bytes).Order(Comparer<byte[]>.Create(CompareBytes)));

            byte[] tableFrom = SpilledWindowKeys.TableFrom(group), tableTo = SpilledWindowKeys.TableLimit(group);
            Assert.Equal(
                entries.Count(e => e.Group == group),
                entries.Count(e => CompareBytes(e.Bytes, tableFrom) >= 0 && CompareBytes(e.Bytes, tableTo) < 0));
        }
    }
}
