using LinqStream.Runtime;
using LinqStream.Runtime.Egress;

namespace LinqStream.Tests.Physical.Lifetime;

/// <summary>A source the test drives by hand: it keeps the observer it was connected to and pushes what it is told.</summary>
internal sealed class ManualStream<T> : PhysicalStream<T>
{
    public IStreamObserver<T> Observer { get; private set; } = null!;

    public QueryContext Context { get; private set; } = null!;

    public override string Name => "Manual";

    public override IReadOnlyList<PhysicalNode> Inputs => [];

    public override void Connect(IStreamObserver<T> downstream, QueryContext context)
    {
        Observer = downstream;
        Context = context;
    }

    /// <summary>Wires <paramref name="plan"/> (which reads from manual streams) to a recording sink.</summary>
    public static RecordingSink<TOut> Wire<TOut>(PhysicalStream<TOut> plan, QueryContext context)
    {
        var sink = new RecordingSink<TOut>(context);
        plan.Connect(sink, context);
        return sink;
    }

    /// <summary>Pushes the events in as many full batches as they need.</summary>
    public void Push(params (long Start, long End, T Payload)[] events)
    {
        var pool = Context.Pool<T>();
        var batch = pool.Rent();
        foreach (var (start, end, payload) in events)
        {
            if (batch.IsFull)
            {
                Observer.OnBatch(batch);
                batch = pool.Rent();
            }

            batch.Add(start, end, payload);
        }

        Observer.OnBatch(batch);
    }

    public void Watermark(long watermark) => Observer.OnWatermark(watermark);

    public void Complete()
    {
        Observer.OnWatermark(long.MaxValue);
        Observer.OnCompleted();
    }
}
