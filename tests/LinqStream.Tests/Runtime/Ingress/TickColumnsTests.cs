using LinqStream.Runtime.Ingress;

namespace LinqStream.Tests.Runtime.Ingress;

public sealed class TickColumnsTests
{
    // Lengths around the vector width (4 or 8 longs) and a batch: every split into vectors and a scalar tail.
    public static TheoryData<int> Lengths => [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 2047, 2048];

    private static readonly long[] Specials = [long.MaxValue, long.MaxValue - 1, long.MinValue, long.MinValue + 1, 0, -1, 1];

    private static long[] RandomTicks(Random random, int length)
    {
        var ticks = new long[length];
        for (int i = 0; i < length; i++)
        {
            ticks[i] = random.Next(4) == 0 ? Specials[random.Next(Specials.Length)] : random.NextInt64(long.MinValue, long.MaxValue);
        }

        return ticks;
    }

    private static long PointEnd(long start) => start == long.MaxValue ? long.MaxValue : start + 1;

    [Theory]
    [MemberData(nameof(Lengths))]
    public void FillPointEnds_RandomAndExtremeTicks_EqualsStartPlusOneSaturated(int length)
    {
        var random = new Random(length + 1);
        for (int round = 0; round < 20; round++)
        {
            var start = RandomTicks(random, length);
            var end = Enumerable.Repeat(42L, length + 3).ToArray();
            TickColumns.FillPointEnds(start, end);
            Assert.Equal(start.Select(PointEnd), end.Take(length));
            Assert.Equal([42L, 42L, 42L], end.Skip(length)); // nothing written past the column
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void KeepAliveOneTick_EndsAtOrBeforeStart_BecomePointEnds_OthersKept(int length)
    {
        var random = new Random(length + 100);
        for (int round = 0; round < 20; round++)
        {
            var start = RandomTicks(random, length);
            var end = new long[length + 2];
            for (int i = 0; i < length; i++)
            {
                // A third each: before the start, equal to it, after it (and the specials through RandomTicks).
                end[i] = random.Next(3) switch
                {
                    0 => start[i] == long.MinValue ? long.MinValue : start[i] - random.Next(1, 5),
                    1 => start[i],
                    _ => random.Next(2) == 0 ? RandomTicks(random, 1)[0] : (start[i] >= long.MaxValue - 10 ? long.MaxValue : start[i] + random.Next(1, 10)),
                };
            }

            var expected = end.Select((e, i) => i < length && e <= start[i] ? PointEnd(start[i]) : e).ToArray();
            TickColumns.KeepAliveOneTick(start, end);
            Assert.Equal(expected, end);
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void IsInOrderFrom_OneInversionAnywhere_IsFound(int length)
    {
        var random = new Random(length + 200);
        var sorted = Enumerable.Range(0, length).Select(i => 1_000L + (i * 3L) + random.Next(3)).ToArray();
        Assert.True(TickColumns.IsInOrderFrom(sorted, sorted.Length > 0 ? sorted[0] : long.MaxValue));
        Assert.True(TickColumns.IsInOrderFrom(sorted, long.MinValue));
        for (int at = 1; at < length; at++)
        {
            var ticks = (long[])sorted.Clone();
            ticks[at] = ticks[at - 1] - 1; // one tick too early, wherever it falls in a vector or in the tail
            Assert.False(TickColumns.IsInOrderFrom(ticks, long.MinValue), $"inversion at {at} of {length}");
        }

        if (length > 0)
        {
            Assert.False(TickColumns.IsInOrderFrom(sorted, sorted[0] + 1)); // the first tick below the floor
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void IsInOrderFrom_RandomColumns_AgreesWithAPlainLoop(int length)
    {
        var random = new Random(length + 300);
        for (int round = 0; round < 200; round++)
        {
            // Mostly non-decreasing with ties, sometimes a step back; extreme values included.
            var ticks = new long[length];
            long t = random.Next(3) == 0 ? long.MinValue : random.Next(1000);
            for (int i = 0; i < length; i++)
            {
                t = random.Next(50) == 0 ? t - random.Next(1, 3) : random.Next(3) == 0 ? t : t + random.Next(5);
                ticks[i] = random.Next(100) == 0 ? long.MaxValue : t;
            }

            long floor = length == 0 || random.Next(2) == 0 ? long.MinValue : ticks[0] - random.Next(-1, 2);
            bool expected = Enumerable.Range(0, length).All(i => ticks[i] >= (i == 0 ? floor : ticks[i - 1]));
            Assert.Equal(expected, TickColumns.IsInOrderFrom(ticks, floor));
        }
    }
}
