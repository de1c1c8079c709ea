using System.Linq.Expressions;
using LinqStream.Physical.Kernels;
using LinqStream.Physical.Windows;
using LinqStream.Physical.Windows.Session;
using LinqStream.Runtime;
using LinqStream.Runtime.Egress;
using LinqStream.Temporal;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Physical.Windows;

/// <summary>
/// Issue #23: memory is given back when a window with many keys closes (the columns shrink, the tables are rebuilt at their
/// size), and the results stay exactly those of a LINQ-to-objects reference; state written after that restores exactly.
/// </summary>
public sealed class WindowMemoryTests
{
    private const long Size = 1_000;

    private static readonly Expression<Func<Reading, int>> Key = r => r.Key;

    private static readonly Expression<Func<IWindowGroup<int, Reading>, string>> Selector = g =>
        g.Key + ":" + g.Count() + ":" + g.Sum(r => r.Value) + ":" + g.Max(r => r.Tag);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Close_WindowWithManyKeysThenSmallOnes_ShrinksTheStateAndKeepsEveryResultExact(bool hopping)
    {
        var input = Input(seed: 3, bigKeys: 40_000);
        var (op, sink, context) = Create(hopping);
        var peak = 0;

        Feed(op, context, input, after: () => peak = Math.Max(peak, op.GroupCapacity));
        op.OnWatermark(Ticks.Infinity);

        Assert.Null(sink.Error);
        Assert.True(peak >= 40_000, $"peak capacity {peak}");
        Assert.True(op.GroupCapacity <= 4_096, $"capacity after the big window closed: {op.GroupCapacity}");
        Assert.Equal(0, op.LiveGroups);
        Assert.Equal(Reference(input, hopping), Sorted(sink.Events.Select(e => (e.Start, e.Payload))));
    }

    [Fact]
    public void WriteState_AfterTheStateShrank_RestoresAndContinuesWithExactlyTheSameOutput()
    {
        var input = Input(seed: 5, bigKeys: 20_000);
        int cut = input.Length - 1_000; // after the close that follows the big window's (memory comes back there: SlotAllocator.ShouldCompactAfterClose)
        var (whole, wholeSink, wholeContext) = Create(hopping: true);
        Feed(whole, wholeContext, input);
        whole.OnWatermark(Ticks.Infinity);

        var (first, firstSink, firstContext) = Create(hopping: true);
        Feed(first, firstContext, input[..cut]);
        Assert.True(first.GroupCapacity <= 4_096);
        using var state = new MemoryStream();
        first.WriteState(new BinaryWriter(state));
        state.Position = 0;
        var (second, secondSink, secondContext) = Create(hopping: true);
        second.ReadState(new BinaryReader(state));
        Feed(second, secondContext, input[cut..]);
        second.OnWatermark(Ticks.Infinity);

        var resumed = firstSink.Events.Concat(secondSink.Events).Select(e => (e.Start, e.End, e.Payload));
        Assert.Equal(wholeSink.Events.Select(e => (e.Start, e.End, e.Payload)), resumed);
    }

    [Fact]
    public void Close_BurstOfSessionsThenFewKeys_ShrinksTheStateAndKeepsEveryResultExact()
    {
        var input = Input(seed: 7, bigKeys: 40_000);
        var context = new QueryContext(new QueryOptions { BatchSize = 256 });
        var sink = new RecordingSink<string>(context);
        var plan = AggregatePlans.Plan<Reading, int, string>(Selector);
        var op = new SessionWindowAggregateOperator<Reading, int, string>(sink, context, WindowSpec.Session(Gap, 0), ColumnKernel.Compile<Reading, int>(Key), plan, "test");
        int peakGroups = 0, peakTable = 0;

        Feed(op, context, input, after: () =>
        {
            peakGroups = Math.Max(peakGroups, op.GroupCapacity);
            peakTable = Math.Max(peakTable, op.OpenTableCapacity);
        });
        int groupsBeforeEnd = op.GroupCapacity, tableBeforeEnd = op.OpenTableCapacity;
        op.OnWatermark(Ticks.Infinity);

        Assert.Null(sink.Error);
        Assert.True(peakGroups >= 40_000 && peakTable >= 40_000, $"peak capacity {peakGroups}, table {peakTable}");
        Assert.True(groupsBeforeEnd <= 4_096, $"slot capacity after the burst closed: {groupsBeforeEnd}");
        Assert.True(tableBeforeEnd <= 4_096, $"open-session table capacity after the burst closed: {tableBeforeEnd}");
        Assert.Equal(0, op.LiveGroups);
        Assert.Equal(SessionReference(input), Sorted(sink.Events.Select(e => (e.Start, e.Payload))));
    }

    private const long Gap = 2_000; // longer than the burst: its 40,000 sessions are all open at once

    /// <summary>Sessions per key the plain way: a key's events in time order, split where the next one comes at or after last + gap.</summary>
    private static List<(long, string)> SessionReference(Reading[] input)
    {
        var results = new List<(long, string)>();
        foreach (var key in input.GroupBy(r => r.Key))
        {
            var events = key.OrderBy(r => r.Time).ToList();
            int first = 0;
            for (int i = 1; i <= events.Count; i++)
            {
                if (i == events.Count || events[i].Time >= events[i - 1].Time + Gap)
                {
                    var session = events.GetRange(first, i - first);
                    long end = session[^1].Time + Gap;
                    results.Add((end - 1, $"{key.Key}:{session.Count}:{session.Sum(r => r.Value)}:{session.Max(r => r.Tag)}"));
                    first = i;
                }
            }
        }

        return Sorted(results);
    }

    /// <summary>Small windows, one window holding <paramref name="bigKeys"/> distinct keys (huge and negative ones too), small windows again.</summary>
    private static Reading[] Input(int seed, int bigKeys)
    {
        var random = new Random(seed);
        var events = new List<Reading>();
        long t = Ticks.UnixEpoch;
        for (int i = 0; i < 2_000; i++)
        {
            events.Add(new Reading(t += random.Next(3), random.Next(30), random.Next(100), "a" + random.Next(5)));
        }

        long bigStart = Ticks.WindowStart(t, Size) + Size;
        for (int i = 0; i < bigKeys; i++)
        {
            int key = i % 3 == 0 ? int.MaxValue - i : i % 3 == 1 ? int.MinValue + i : i;
            events.Add(new Reading(bigStart + (i * (Size - 1) / bigKeys), key, random.Next(100), "b" + random.Next(5)));
        }

        t = bigStart + Size;
        for (int i = 0; i < 6_000; i++)
        {
            events.Add(new Reading(t += random.Next(2), random.Next(30), random.Next(100), "c" + random.Next(5)));
        }

        return [.. events];
    }

    private static (FixedWindowAggregateOperator<Reading, int, string> Op, RecordingSink<string> Sink, QueryContext Context) Create(bool hopping)
    {
        var context = new QueryContext(new QueryOptions { BatchSize = 256 });
        var sink = new RecordingSink<string>(context);
        var plan = AggregatePlans.Plan<Reading, int, string>(Selector);
        var window = hopping ? WindowSpec.Hopping(Size * 2, Size) : WindowSpec.Hopping(Size, Size);
        var op = new FixedWindowAggregateOperator<Reading, int, string>(sink, context, window, ColumnKernel.Compile<Reading, int>(Key), plan, "test");
        return (op, sink, context);
    }

    private static void Feed(IStreamObserver<Reading> op, QueryContext context, IEnumerable<Reading> events, Action? after = null)
    {
        var pool = context.Pool<Reading>();
        foreach (var chunk in events.Chunk(256))
        {
            var batch = pool.Rent();
            foreach (var r in chunk)
            {
                batch.Add(r.Time, r.Time + 1, r);
            }

            op.OnBatch(batch);
            after?.Invoke();
            op.OnWatermark(chunk[^1].Time);
        }
    }

    private static List<(long, string)> Reference(Reading[] input, bool hopping)
    {
        long size = hopping ? Size * 2 : Size;
        var results =
            from r in input
            from start in hopping ? new[] { Ticks.WindowStart(r.Time, Size), Ticks.WindowStart(r.Time, Size) - Size } : new[] { Ticks.WindowStart(r.Time, Size) }
            where start <= r.Time && r.Time < start + size
            group r by (start, r.Key) into g
            select (g.Key.start, $"{g.Key.Key}:{g.Count()}:{g.Sum(r => r.Value)}:{g.Max(r => r.Tag)}");
        return Sorted(results);
    }

    private static List<(long, string)> Sorted(IEnumerable<(long, string)> results) =>
        [.. results.OrderBy(r => r.Item1).ThenBy(r => r.Item2, StringComparer.Ordinal)];
}
