using System.Reactive.Linq;
using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Infrastructure;

namespace LinqStream.Benchmarks.Joins;

/// <summary>Temporal equi-join of two point-event streams (each event alive 10 ticks, 1k keys): LinqStream vs Rx.NET's Join.</summary>
/// <remarks>Rx form: <c>Observable.Join</c> with duration selectors that close each event after the same 10 ticks of event time is not
/// expressible (Rx durations are observables in processing time), so the Rx baseline keeps, per key, the events of the last 10 ticks in
/// a dictionary inside a merged, time-ordered stream — the fairest idiomatic Rx equivalent.</remarks>
[MemoryDiagnoser]
public class EquiJoinBenchmarks
{
    private const int EventsPerSide = 2_000_000;
    private const long Life = 10;
    private Tick[] _left = [];
    private Tick[] _right = [];

    [GlobalSetup]
    public void Setup()
    {
        _left = Data.Ticks(EventsPerSide, 1000, seed: 1);
        _right = Data.Ticks(EventsPerSide, 1000, seed: 2);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = 2 * EventsPerSide)]
    public long RxNet()
    {
        var sink = new CountingObserver<long>();
        var state = new Dictionary<int, (Queue<Tick> Left, Queue<Tick> Right)>();
        _left.ToObservable().Select(t => (Side: 0, t)).Merge(_right.ToObservable().Select(t => (Side: 1, t)))
            .SelectMany(e =>
            {
                if (!state.TryGetValue(e.t.Key, out var queues))
                {
                    state[e.t.Key] = queues = (new Queue<Tick>(), new Queue<Tick>());
                }

                var (mine, other) = e.Side == 0 ? (queues.Left, queues.Right) : (queues.Right, queues.Left);
                while (other.Count > 0 && other.Peek().Time + Life <= e.t.Time)
                {
                    other.Dequeue();
                }

                mine.Enqueue(e.t);
                return other.Select(o => e.t.Value + o.Value).ToList();
            })
            .Subscribe(sink);
        return sink.Count;
    }

    [Benchmark(OperationsPerInvoke = 2 * EventsPerSide)]
    public long LinqStreamQuery()
    {
        var sink = new CountingObserver<long>();
        var query =
            from l in QStream.From(_left, t => t.Time).ExtendLifetime(TimeSpan.FromTicks(Life - 1))
            join r in QStream.From(_right, t => t.Time).ExtendLifetime(TimeSpan.FromTicks(Life - 1)) on l.Key equals r.Key
            select l.Value + r.Value;
        query.Subscribe(sink);
        return sink.Count;
    }
}
