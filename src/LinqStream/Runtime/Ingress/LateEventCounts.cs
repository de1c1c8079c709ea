namespace LinqStream.Runtime.Ingress;

/// <summary>The late events of one run, over all its sources, counted whether or not an <see cref="IngressStatistics"/> is attached.</summary>
/// <remarks>Touched only when an event is late, never per event; readable from any thread.</remarks>
internal sealed class LateEventCounts
{
    private long _late;
    private long _dropped;
    private long _adjusted;

    public long Late => Volatile.Read(ref _late);

    public long Dropped => Volatile.Read(ref _dropped);

    public long Adjusted => Volatile.Read(ref _adjusted);

    public void Add(IngressPolicyKind action)
    {
        Interlocked.Increment(ref _late);
        if (action == IngressPolicyKind.Drop)
        {
            Interlocked.Increment(ref _dropped);
        }
        else if (action == IngressPolicyKind.Adjust)
        {
            Interlocked.Increment(ref _adjusted);
        }
    }
}
