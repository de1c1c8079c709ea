using System.Reactive.Linq;
using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Infrastructure;
using LinqStream.Testing;

namespace LinqStream.Benchmarks.Windows;

/// <summary>A session's key, event count and start.</summary>
public readonly record struct SessionCount(int Key, int Count, long Start);

/// <summary>Count per key per session window, by number of keys: LinqStream vs Rx.NET vs a hand-written loop.</summary>
/// <remarks>
/// <para>
/// Events are one tick apart with uniform keys, so a key's events come about every <c>Keys</c> ticks; the gap is 4 × <c>Keys</c>
/// ticks, so a session holds about e⁴ ≈ 55 events whatever the number of keys, and the parameter changes only how many sessions are
/// open at once.
/// </para>
/// <para>
/// Rx.NET: <c>GroupByUntil(key, g =&gt; g.Throttle(gap))</c> on a virtual-time scheduler driven by event time (see
/// <see cref="RxEventTime"/>): a group ends when the gap passes without an event of its key, which is a session.
/// </para>
/// </remarks>
[MemoryDiagnoser]
public class SessionCountBenchmarks : IAnswerCheck
{
    private const int Events = 2_000_000; // the Rx.NET baseline keeps a pending timer per event in the scheduler's queue: slow, so fewer events
    private Tick[] _data = [];

    [Params(100, 10_000, 1_000_000)]
    public int Keys { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = Data.Ticks(Events, Keys);
        Check(_data, Keys);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public long RxNet()
    {
        var sink = new CountingObserver<SessionCount>();
        Rx(_data, Keys, sink);
        return sink.Count;
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public long LinqStreamQuery()
    {
        var sink = new CountingObserver<SessionCount>();
        LinqStream(_data, Keys).Subscribe(sink).Dispose();
        return sink.Count;
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public long HandWrittenLoop()
    {
        var sink = new CountingObserver<SessionCount>();
        HandWritten(_data, Keys, sink);
        return sink.Count;
    }

    public string CheckQuick() => CheckAll(20_000);

    public string CheckFull() => CheckAll(Events);

    private static string CheckAll(int events)
    {
        long results = 0;
        foreach (int keys in new[] { 100, 10_000, 1_000_000 })
        {
            results += Check(Data.Ticks(events, keys), keys);
        }

        return Answers.Summary(3L * events, results);
    }

    private static TimeSpan Gap(int keys) => TimeSpan.FromTicks(4L * keys);

    private static IQStream<SessionCount> LinqStream(Tick[] data, int keys) =>
        from t in QStream.From(data, t => t.Time).SessionWindow(Gap(keys))
        group t by t.Key into g
        select new SessionCount(g.Key, g.Count(), g.Window.StartTicks);

    private static void Rx(Tick[] data, int keys, IObserver<SessionCount> sink) =>
        RxEventTime.Replay(
            data,
            t => t.Time,
            data[0].Time,
            (ticks, scheduler) => ticks
                .GroupByUntil(t => t.Key, g => g.Throttle(Gap(keys), scheduler))
                .SelectMany(g => g
                    .Aggregate((Count: 0, Start: long.MaxValue), (s, t) => (s.Count + 1, Math.Min(s.Start, t.Time)))
                    .Select(s => new SessionCount(g.Key, s.Count, s.Start))),
            sink);

    private static void HandWritten(Tick[] data, int keys, IObserver<SessionCount> sink)
    {
        var open = new Dictionary<int, (int Count, long Start, long Last)>();
        var arrivals = new Queue<(int Key, long Time)>();
        long gap = Gap(keys).Ticks;
        foreach (var t in data)
        {
            CloseUntil(t.Time);
            open[t.Key] = open.TryGetValue(t.Key, out var s) ? (s.Count + 1, s.Start, t.Time) : (1, t.Time, t.Time);
            arrivals.Enqueue((t.Key, t.Time));
        }

        CloseUntil(long.MaxValue);
        sink.OnCompleted();

        void CloseUntil(long now)
        {
            while (arrivals.TryPeek(out var head) && (now == long.MaxValue || head.Time + gap <= now))
            {
                arrivals.Dequeue();
                if (open.TryGetValue(head.Key, out var s) && s.Last == head.Time)
                {
                    open.Remove(head.Key);
                    sink.OnNext(new SessionCount(head.Key, s.Count, s.Start));
                }
            }
        }
    }

    private static int Check(Tick[] data, int keys)
    {
        var expected = ReferenceWindows.Sessions(data.Select(t => (t.Time, t)), Gap(keys).Ticks, 0, t => t.Key, g => g.Count())
            .Select(s => new SessionCount(s.Key, s.Result, s.Start))
            .ToList();
        string what = $"session count, {keys} keys";
        Answers.SameMultiset($"{what}, LinqStream", expected, Collect(sink => LinqStream(data, keys).Subscribe(sink).Dispose()));
        Answers.SameMultiset($"{what}, Rx.NET", expected, Collect(sink => Rx(data, keys, sink)));
        Answers.SameMultiset($"{what}, hand-written loop", expected, Collect(sink => HandWritten(data, keys, sink)));
        return expected.Count;
    }

    private static List<SessionCount> Collect(Action<IObserver<SessionCount>> run)
    {
        var sink = new CollectingObserver<SessionCount>();
        run(sink);
        return sink.ResultsOrThrow();
    }
}
