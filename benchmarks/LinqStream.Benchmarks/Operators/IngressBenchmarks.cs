using System.Linq.Expressions;
using System.Reactive.Linq;
using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Infrastructure;
using LinqStream.Physical.Pipeline;
using LinqStream.Runtime;
using LinqStream.Runtime.Egress;

namespace LinqStream.Benchmarks.Operators;

/// <summary>The kinds of source <see cref="IngressBenchmarks"/> reads.</summary>
public enum SourceKind
{
    /// <summary>A <c>Tick[]</c>: its fused chain reads the array in place.</summary>
    Array,

    /// <summary>A <c>List&lt;Tick&gt;</c> (copied a slice at a time, as an array).</summary>
    List,

    /// <summary>An iterator (<c>yield return</c>): enumerated one event at a time.</summary>
    Enumerable,

    /// <summary>A cold <c>IObservable</c> that pushes the array synchronously on subscribe: a live source, run through a bounded channel on a second thread.</summary>
    Observable,
}

/// <summary>Ingress cost per source type: a projection of every event, from each kind of source, against Rx.NET over the same source.</summary>
/// <remarks>
/// Rx.NET: <c>ToObservable()</c> of the array, list or iterator, or the observable itself, then the same <c>Select</c>.
/// <see cref="EngineBatchToBatch"/> is the engine's batch-to-batch speed: the same projection, its plan built by hand, over batches
/// block-copied from columns prepared before the run (<see cref="PrebuiltBatchStream{T}"/>: no ingress work per event). It does not
/// depend on <see cref="Source"/>; issue #19 asks replay from an array (<c>Source=Array</c>, <see cref="LinqStreamQuery"/>) to reach
/// 0.8× of it.
/// </remarks>
[MemoryDiagnoser]
public class IngressBenchmarks : IAnswerCheck
{
    private const int Events = 10_000_000;
    private Tick[] _data = [];
    private List<Tick> _list = [];
    private PrebuiltBatchStream<Tick>? _batches;

    [Params(SourceKind.Array, SourceKind.List, SourceKind.Enumerable, SourceKind.Observable)]
    public SourceKind Source { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = Data.Ticks(Events, 1000);
        _list = [.. _data];
        _batches = Batches(_data);
        Check(_data, Source);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public long RxNet()
    {
        var sink = new CountingObserver<long>();
        RxSource(_data, _list, Source).Select(t => t.Value).Subscribe(sink);
        return sink.Count;
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public long LinqStreamQuery() => RunToEnd(LinqStream(_data, _list, Source));

    /// <summary>The same projection over batches built before the run: what the engine does once a batch exists.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public long EngineBatchToBatch() => BatchToBatch(_batches!, new IngressObserver()).Count;

    [Benchmark(OperationsPerInvoke = Events)]
    public long HandWrittenLoop()
    {
        var sink = new CountingObserver<long>();
        switch (Source)
        {
            case SourceKind.Array:
                foreach (var t in _data)
                {
                    sink.OnNext(t.Value);
                }

                break;
            case SourceKind.List:
                foreach (var t in _list)
                {
                    sink.OnNext(t.Value);
                }

                break;
            case SourceKind.Enumerable:
                foreach (var t in Iterate(_data))
                {
                    sink.OnNext(t.Value);
                }

                break;
            default:
                new ArrayObservable<Tick>(_data).Subscribe(new ProjectingObserver(sink));
                break;
        }

        return sink.Count;
    }

    public string CheckQuick() => CheckAll(100_000);

    public string CheckFull() => CheckAll(Events);

    /// <summary>Checks every source kind over <paramref name="events"/> ticks; throws <see cref="AnswerMismatchException"/> on a difference.</summary>
    internal static string CheckAll(int events)
    {
        var data = Data.Ticks(events, 1000);
        foreach (var source in System.Enum.GetValues<SourceKind>())
        {
            Check(data, source);
        }

        return Answers.Summary(5L * events, 5L * events);
    }

    /// <summary>The projection of every tick from <paramref name="source"/>, under <paramref name="options"/> when given (the query's default options otherwise).</summary>
    internal static IQStream<long> LinqStream(Tick[] data, List<Tick> list, SourceKind source, QueryOptions? options = null)
    {
        var query = source switch
        {
            SourceKind.Array => QStream.From(data, t => t.Time).Select(t => t.Value),
            SourceKind.List => QStream.From(list, t => t.Time).Select(t => t.Value),
            SourceKind.Enumerable => QStream.From(Iterate(data), t => t.Time).Select(t => t.Value),
            _ => QStream.From(new ArrayObservable<Tick>(data), t => t.Time).Select(t => t.Value),
        };
        return options is null ? query : query.WithOptions(options);
    }

    /// <summary>Runs <paramref name="query"/> to its end; returns the number of results.</summary>
    internal static long RunToEnd(IQStream<long> query)
    {
        using var sink = new IngressObserver();
        using (query.Subscribe(sink))
        {
            return sink.Wait();
        }
    }

    private static IObservable<Tick> RxSource(Tick[] data, List<Tick> list, SourceKind source) =>
        source switch
        {
            SourceKind.Array => data.ToObservable(),
            SourceKind.List => list.ToObservable(),
            SourceKind.Enumerable => Iterate(data).ToObservable(),
            _ => new ArrayObservable<Tick>(data),
        };

    /// <summary>Runs the projection over <paramref name="batches"/>, built once outside the measured part (its constructor checks the whole start column's order).</summary>
    internal static TSink BatchToBatch<TSink>(PrebuiltBatchStream<Tick> batches, TSink sink, QueryOptions? options = null)
        where TSink : IObserver<long>
    {
        Expression<Func<Tick, long>> select = t => t.Value;
        var plan = new PipelineStream<Tick, long>(batches, [new PipelineKernelStep(false, select)]);
        QueryExecution.Create(plan, c => new ObserverSink<long>(sink, c), options).Run();
        return sink;
    }

    /// <summary>The ticks as the columns of point events at their times.</summary>
    internal static PrebuiltBatchStream<Tick> Batches(Tick[] data)
    {
        var starts = new long[data.Length];
        var ends = new long[data.Length];
        for (int i = 0; i < data.Length; i++)
        {
            starts[i] = data[i].Time;
            ends[i] = data[i].Time + 1;
        }

        return new PrebuiltBatchStream<Tick>(starts, ends, data);
    }

    private static IEnumerable<Tick> Iterate(Tick[] data)
    {
        foreach (var t in data)
        {
            yield return t;
        }
    }

    /// <summary>[GlobalSetup]'s answer check of one case: <paramref name="source"/> read by LinqStream and Rx.NET, and the prebuilt batches, over all of <paramref name="data"/>.</summary>
    internal static void Check(Tick[] data, SourceKind source)
    {
        var expected = data.Select(t => t.Value).ToList();
        var list = data.ToList();
        CheckLinqStream(LinqStream(data, list, source), expected, source.ToString());
        using var batchSink = BatchToBatch(Batches(data), new IngressObserver(record: true));
        batchSink.Wait();
        if (!batchSink.Results.SequenceEqual(expected))
        {
            throw new AnswerMismatchException("ingress: the engine over prebuilt batches: results differ from the inputs' values in order.");
        }

        var rx = new CollectingObserver<long>();
        RxSource(data, list, source).Select(t => t.Value).Subscribe(rx);
        if (!rx.ResultsOrThrow().SequenceEqual(expected))
        {
            throw new AnswerMismatchException($"ingress from {source}, Rx.NET: results differ from the inputs' values.");
        }
    }

    private static void CheckLinqStream(IQStream<long> query, List<long> expected, string source)
    {
        using var sink = new IngressObserver(record: true);
        using (query.Subscribe(sink))
        {
            sink.Wait();
        }

        if (!sink.Results.SequenceEqual(expected))
        {
            throw new AnswerMismatchException($"ingress from {source}, LinqStream: {sink.Results.Count} results differ from the {expected.Count} inputs' values in order.");
        }
    }

    /// <summary>
    /// The one observer type of every engine run of this class, measured or checked: counts the results (and keeps them for a
    /// check) and lets the caller wait for the end (a live source's query runs on its own thread).
    /// </summary>
    /// <remarks>
    /// One type for all (issue #19, session 16): the engine's sink calls <see cref="IObserver{T}.OnNext"/> per event, and the
    /// runtime compiles that call for the observer type its profile saw, early in the process — that of [GlobalSetup]'s check.
    /// With the check's own observer (an Rx <c>AnonymousObserver</c>, a collecting one) every measured run paid an interface
    /// call per event that an application, with its one observer, does not; which case it hit depended on the order of the
    /// cases in the process.
    /// </remarks>
    internal sealed class IngressObserver(bool record = false) : IObserver<long>, IDisposable
    {
        private readonly ManualResetEventSlim _done = new();
        private readonly List<long>? _results = record ? [] : null;
        private Exception? _error;

        public long Count { get; private set; }

        /// <summary>Gets the results kept (when made with <c>record</c>).</summary>
        public List<long> Results => _results ?? throw new InvalidOperationException("This observer keeps no results.");

        public void OnNext(long value)
        {
            Count++;
            _results?.Add(value);
        }

        public void OnCompleted() => _done.Set();

        public void OnError(Exception error)
        {
            _error = error;
            _done.Set();
        }

        /// <summary>Blocks until the query completes; rethrows its error.</summary>
        public long Wait()
        {
            _done.Wait();
            return _error is null ? Count : throw new InvalidOperationException("The query failed: " + _error.Message, _error);
        }

        public void Dispose() => _done.Dispose();
    }

    /// <summary>Pushes an array synchronously to each subscriber, then completes: the simplest cold observable.</summary>
    private sealed class ArrayObservable<T>(T[] items) : IObservable<T>
    {
        public IDisposable Subscribe(IObserver<T> observer)
        {
            foreach (var item in items)
            {
                observer.OnNext(item);
            }

            observer.OnCompleted();
            return System.Reactive.Disposables.Disposable.Empty;
        }
    }

    private sealed class ProjectingObserver(IObserver<long> sink) : IObserver<Tick>
    {
        public void OnCompleted() => sink.OnCompleted();

        public void OnError(Exception error) => sink.OnError(error);

        public void OnNext(Tick value) => sink.OnNext(value.Value);
    }
}
