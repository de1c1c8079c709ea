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
    public IdlePartition Join(QueryContext context, SourceDriver driver)
    {
        var members = context.GetOrAdd(this, () => new List<IdlePartition>());
        var member = new IdlePartition(this, members, driver, context.TimeProvider);
        members.Add(member);
        return member;
    }
}

/// <summary>One partition's idleness: when it last had data, and the watermark it may move to while idle.</summary>
/// <remarks>Only the query's runner thread calls it (from <see cref="SourceDriver.TryStep"/> and <see cref="SourceDriver.WaitForDataAsync"/>).</remarks>
internal sealed class IdlePartition
{
    private readonly PartitionGroup _group;
    private readonly List<IdlePartition> _members;
    private readonly SourceDriver _driver;
    private long _lastData;

    public IdlePartition(PartitionGroup group, List<IdlePartition> members, SourceDriver driver, TimeProvider time)
    {
        _group = group;
        _members = members;
        _driver = driver;
        Time = time;
        _lastData = time.GetTimestamp();
    }

    public TimeProvider Time { get; }

    /// <summary>The partition starts reading: its idle clock starts now.</summary>
    public void Started() => _lastData = Time.GetTimestamp();

    /// <summary>The partition pushed events: it is active.</summary>
    public void SawData() => _lastData = Time.GetTimestamp();

    /// <summary>Gets how long until the partition counts as idle (zero once it is).</summary>
    public TimeSpan UntilIdle
    {
        get
        {
            var left = _group.IdleTimeout - Time.GetElapsedTime(_lastData);
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
