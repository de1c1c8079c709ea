using System.Reactive.Linq;
using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Infrastructure;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Benchmarks.Scenarios.Nexmark;

/// <summary>A top-k result: a window's highest bids, best first.</summary>
public sealed record TopBids(long WindowStart, IEnumerable<Bid> Top);

/// <summary>Top-k shape: the 10 highest bids of each 10 s tumbling window (Flink's Window Top-N, NEXMark q19's shape over the whole window).</summary>
/// <remarks>
/// <para>LinqStream: <c>Select(w =&gt; w.OrderByDescending(b =&gt; b.Price).Take(10))</c> on the window, kept incrementally (k per window).</para>
/// <para>
/// Rx.NET: <c>Window(10 s)</c> on a virtual-time scheduler driven by event time, and <c>Aggregate</c> into a bounded, stable top-k
/// buffer (<see cref="TopK{T}"/>) — incremental, as the engine is, rather than a <c>ToList</c> and a sort.
/// </para>
/// <para>Hand-written: the same top-k buffer per window, emitted when the window ends.</para>
/// </remarks>
[MemoryDiagnoser]
public class TopKBids : NexmarkQuery<TopBids>
{
    public const int K = 10;
    public static readonly TimeSpan Size = TimeSpan.FromSeconds(10);

    public override string Name => "top-10 bids per window";

    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public long RxNet() => CountRx();

    [Benchmark(OperationsPerInvoke = Events)]
    public long LinqStreamQuery() => CountLinqStream();

    [Benchmark(OperationsPerInvoke = Events)]
    public long HandWrittenLoop() => CountHandWritten();

    public override IQStream<TopBids> LinqStream(NexmarkInput input) =>
        NexmarkStreams.Bids(NexmarkStreams.Events(input))
            .TumblingWindow(Size)
            .Select(w => new TopBids(w.Window.StartTicks, w.OrderByDescending(b => b.Price).Take(K)));

    public override void Rx(NexmarkInput input, IObserver<TopBids> sink) =>
        RxEventTime.Replay(
            input.Events,
            e => e.DateTime.Ticks,
            RxEventTime.AlignedStart(input.Events[0].DateTime.Ticks, Size, Size),
            (events, scheduler) => events
                .Where(e => e.Kind == NexmarkEventKind.Bid)
                .Select(e => e.Bid!)
                .Window(Size, scheduler)
                .SelectMany(window =>
                {
                    long start = scheduler.Now.UtcTicks;
                    return window
                        .Aggregate(new TopK<Bid>(K), (top, b) => top.Add(b, b.Price))
                        .Where(top => top.Count > 0)
                        .Select(top => new TopBids(start, top.Items));
                }),
            sink);

    public override void HandWritten(NexmarkInput input, IObserver<TopBids> sink)
    {
        var top = new TopK<Bid>(K);
        long windowEnd = long.MinValue;
        foreach (var e in input.Events)
        {
            if (e.Kind != NexmarkEventKind.Bid)
            {
                continue;
            }

            long t = e.DateTime.Ticks;
            if (t >= windowEnd)
            {
                Emit();
                windowEnd = EventTime.WindowStart(t, Size) + Size.Ticks;
            }

            top.Add(e.Bid!, e.Bid!.Price);
        }

        Emit();
        sink.OnCompleted();

        void Emit()
        {
            if (top.Count > 0)
            {
                sink.OnNext(new TopBids(windowEnd - Size.Ticks, top.Items));
                top = new TopK<Bid>(K);
            }
        }
    }

    public override IEnumerable<TopBids> Model(NexmarkInput input) =>
        from b in input.Bids
        group b by EventTime.WindowStart(b.DateTime.Ticks, Size) into window
        select new TopBids(window.Key, window.OrderByDescending(b => b.Price).Take(K).ToList());

    protected override object Canonical(TopBids result) =>
        $"{result.WindowStart}: {string.Join(", ", result.Top.Select(b => $"{b.Price}@{b.DateTime.Ticks}/{b.Auction}/{b.Bidder}"))}";
}

/// <summary>The k items with the largest keys seen so far, best first; on equal keys the earlier item ranks first (as a stable sort).</summary>
public sealed class TopK<T>(int k)
{
    private readonly T[] _items = new T[k];
    private readonly long[] _keys = new long[k];

    public int Count { get; private set; }

    public T[] Items => _items[..Count];

    public TopK<T> Add(T item, long key)
    {
        if (Count == _items.Length && key <= _keys[Count - 1])
        {
            return this;
        }

        int i = Count < _items.Length ? Count++ : Count - 1;
        for (; i > 0 && _keys[i - 1] < key; i--)
        {
            _items[i] = _items[i - 1];
            _keys[i] = _keys[i - 1];
        }

        _items[i] = item;
        _keys[i] = key;
        return this;
    }
}
