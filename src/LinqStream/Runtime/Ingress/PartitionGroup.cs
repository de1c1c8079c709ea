namespace LinqStream.Runtime.Ingress;

/// <summary>
/// The partitions of one <c>QStream.From(partitions, ...)</c>: each is its own source with its own ingress and watermark, and
/// the query combines them as a union (the minimum watermark). A partition with no data for the idle timeout stops holding
/// that minimum back: it moves its watermark up to the lowest watermark of the partitions that are still active, until it has
/// data again; when every partition is idle, the idle ones move up to the highest watermark among them (Flink's source idleness
/// and its watermark valve).
/// </summary>
internal sealed class PartitionGroup
{
    public PartitionGroup(TimeSpan idleTimeout) => IdleTimeout = idleTimeout;

    public TimeSpan IdleTimeout { get; }

    /// <summary>Registers one partition's driver for this run of the query; the run's partitions share one list.</summary>
    /// <param name="context">The run.</param>
    /// <param name="driver">The partition's driver.</param>
    /// <param name="hasQueuedData">Whether data the reader received is waiting for the query (then the partition is not idle).</param>
    public IdlePartition Join(QueryContext context, SourceDriver driver, Func<bool> hasQueuedData)
    {
        var members = context.GetOrAdd(this, () => new List<IdlePartition>());
        var member = new IdlePartition(this, members, driver, context.TimeProvider, hasQueuedData);
        members.Add(member);
        return member;
    }
}

/// <summary>One partition's idleness: when its reader last received data, and the watermark it may move to while idle.</summary>
/// <remarks>
/// Idleness is judged where data arrives (as Flink does since FLIP-471): a partition whose reader received data that is still
/// queued behind backpressure is not idle, however long the query thread takes to consume it. <see cref="Received"/> is called
/// by the reader's task; everything else by the query's runner thread.
/// </remarks>
internal sealed class IdlePartition
{
    private readonly PartitionGroup _group;
    private readonly List<IdlePartition> _members;
    private readonly SourceDriver _driver;
    private readonly Func<bool> _hasQueuedData;
    private long _lastData;

    public IdlePartition(PartitionGroup group, List<IdlePartition> members, SourceDriver driver, TimeProvider time, Func<bool> hasQueuedData)
    {
        _group = group;
        _members = members;
        _driver = driver;
        _hasQueuedData = hasQueuedData;
        Time = time;
        _lastData = time.GetTimestamp();
    }

    public TimeProvider Time { get; }

    /// <summary>The partition starts reading: its idle clock starts now.</summary>
    public void Started() => Received();

    /// <summary>The partition's reader received events (called on the reader's task): it is active.</summary>
    public void Received() => Volatile.Write(ref _lastData, Time.GetTimestamp());

    /// <summary>Gets how long until the partition counts as idle (zero once it is); never idle while received data is queued.</summary>
    public TimeSpan UntilIdle
    {
        get
        {
            if (_hasQueuedData())
            {
                return _group.IdleTimeout;
            }

            var left = _group.IdleTimeout - Time.GetElapsedTime(Volatile.Read(ref _lastData));
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }

    public bool IsIdle => UntilIdle == TimeSpan.Zero;

    /// <summary>
    /// Gets the watermark an idle partition may move to: the lowest watermark of the active partitions (not idle, not
    /// completed), or, when every other partition is idle too, the highest of theirs; <see langword="null"/> when this partition
    /// is active or it is the only one left.
    /// </summary>
    public long? IdleWatermark()
    {
        if (!IsIdle)
        {
            return null;
        }

        long? lowestActive = null;
        long? highestIdle = null;
        foreach (var member in _members)
        {
            if (ReferenceEquals(member, this) || member._driver.IsCompleted)
            {
                continue;
            }

            long watermark = member._driver.Watermark;
            if (member.IsIdle)
            {
                highestIdle = highestIdle is null ? watermark : Math.Max(highestIdle.Value, watermark);
            }
            else
            {
                lowestActive = lowestActive is null ? watermark : Math.Min(lowestActive.Value, watermark);
            }
        }

        return lowestActive ?? highestIdle;
    }
}
