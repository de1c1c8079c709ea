using LinqStream.Temporal;

namespace LinqStream;

/// <summary>
/// How far a running query has come: events read and the watermark, reported through <see cref="QueryOptions.Progress"/> while the
/// query runs and once more when it ends.
/// </summary>
/// <param name="EventsRead">The events read from every source so far (before the ingress policy drops or adjusts late ones).</param>
/// <param name="WatermarkTicks">
/// The query's input watermark in ticks: the lowest watermark of its sources, so no event earlier than this can still arrive.
/// <see cref="long.MinValue"/> before any source has sent one, <see cref="long.MaxValue"/> once every source has finished.
/// </param>
/// <param name="MaxEventTimeTicks">The latest event time read from any source, in ticks; <see cref="long.MinValue"/> before the first event.</param>
/// <param name="Elapsed">The wall-clock time since the query started running.</param>
/// <param name="IsCompleted">Whether every source has finished (the last report of a query that ran to its end).</param>
/// <param name="Sources">The same figures per source, in the order the sources were wired.</param>
public sealed record QueryProgress(
    long EventsRead,
    long WatermarkTicks,
    long MaxEventTimeTicks,
    TimeSpan Elapsed,
    bool IsCompleted,
    IReadOnlyList<SourceProgress> Sources)
{
    /// <summary>Gets the watermark as a time, or <see langword="null"/> when it is not a time: before the first watermark, after the last source finished (+∞), or outside <see cref="DateTimeOffset"/>'s range.</summary>
    public DateTimeOffset? Watermark => ProgressTime.ToTime(WatermarkTicks);

    /// <summary>Gets the latest event time read, or <see langword="null"/> before the first event (or outside <see cref="DateTimeOffset"/>'s range).</summary>
    public DateTimeOffset? MaxEventTime => ProgressTime.ToTime(MaxEventTimeTicks);

    /// <summary>
    /// Gets the watermark lag: the latest event time read minus the watermark, or <see langword="null"/> when either is not finite.
    /// </summary>
    /// <remarks>
    /// Measured against event time, not the wall clock: a replayed file's events are hours or years old, so "now − watermark" would
    /// show the age of the data rather than how far the watermark trails the input. The lag is what a disorder bound
    /// (<c>Reorder(maxDelay)</c>) or a slower source of a join holds the results back by; it is zero for one in-order source.
    /// </remarks>
    public TimeSpan? WatermarkLag => ProgressTime.Lag(MaxEventTimeTicks, WatermarkTicks);

    /// <summary>Gets the number of events, over all sources, that arrived after the watermark had passed their time.</summary>
    /// <value>Counted whatever the <see cref="IngressPolicy"/>, with or without <see cref="IngressPolicy.Statistics"/>; 0 when none.</value>
    public long LateEvents { get; init; }

    /// <summary>Gets the number of late events dropped by <see cref="IngressPolicy.Drop"/> (or a reorder policy that drops).</summary>
    /// <value>0 when none.</value>
    public long LateEventsDropped { get; init; }

    /// <summary>Gets the number of late events moved to the watermark by <see cref="IngressPolicy.Adjust"/>.</summary>
    /// <value>0 when none.</value>
    public long LateEventsAdjusted { get; init; }

    /// <summary>Gets the size of the keyed state: groups on the heap and in the state backend, the backend's memory and files.</summary>
    /// <value>All zero for a query without keyed state; the store's figures are zero on the heap backend (<c>JobOptions.State</c>).</value>
    public StateProgress State { get; init; } = new(0, 0, 0, 0, 0);
}

/// <summary>The progress of one source of a running query (see <see cref="QueryProgress"/>).</summary>
/// <param name="Name">The source's name, as given to <c>QStream.From</c>.</param>
/// <param name="EventsRead">The events read from this source so far.</param>
/// <param name="WatermarkTicks">The last watermark this source sent: <see cref="long.MinValue"/> before the first, <see cref="long.MaxValue"/> once it finished.</param>
/// <param name="MaxEventTimeTicks">The latest event time read from this source; <see cref="long.MinValue"/> before the first event.</param>
/// <param name="IsCompleted">Whether the source has finished.</param>
public sealed record SourceProgress(string Name, long EventsRead, long WatermarkTicks, long MaxEventTimeTicks, bool IsCompleted)
{
    /// <summary>Gets the watermark as a time, or <see langword="null"/> when it is not finite or outside <see cref="DateTimeOffset"/>'s range.</summary>
    public DateTimeOffset? Watermark => ProgressTime.ToTime(WatermarkTicks);

    /// <summary>Gets the latest event time read, or <see langword="null"/> before the first event.</summary>
    public DateTimeOffset? MaxEventTime => ProgressTime.ToTime(MaxEventTimeTicks);

    /// <summary>Gets this source's latest event time minus its watermark, or <see langword="null"/> when either is not finite.</summary>
    public TimeSpan? WatermarkLag => ProgressTime.Lag(MaxEventTimeTicks, WatermarkTicks);
}

/// <summary>Tick conversions shared by the progress records.</summary>
internal static class ProgressTime
{
    public static DateTimeOffset? ToTime(long ticks) =>
        ticks is > Ticks.MinusInfinity and < Ticks.Infinity && ticks >= DateTimeOffset.MinValue.UtcTicks && ticks <= DateTimeOffset.MaxValue.UtcTicks
            ? new DateTimeOffset(ticks, TimeSpan.Zero)
            : null;

    public static TimeSpan? Lag(long maxEventTime, long watermark) =>
        maxEventTime is > Ticks.MinusInfinity and < Ticks.Infinity && watermark is > Ticks.MinusInfinity and < Ticks.Infinity
            ? TimeSpan.FromTicks(Math.Max(0, Ticks.SaturatingAdd(maxEventTime, -watermark)))
            : null;
}

/// <summary>How big the keyed state of a running job is, and where it is (see docs/state.md, "Sizing").</summary>
/// <param name="HeapGroups">Open groups (a window's key, a session, a keyed fold's group) whose accumulators are on the managed heap, and a join's waiting or live events held there.</param>
/// <param name="SpilledGroups">Open groups whose accumulators are in the state backend's store (RocksDB), not on the heap, and a join's waiting events there.</param>
/// <param name="StoreMemoryBytes">Native memory of the store (memtables and block cache); not part of the managed heap.</param>
/// <param name="StoreFileBytes">Bytes of the store's live SST files on disk.</param>
/// <param name="CheckpointBytes">Bytes the last checkpoints of the store name in its shared directory (the state's checkpointed size).</param>
public sealed record StateProgress(long HeapGroups, long SpilledGroups, long StoreMemoryBytes, long StoreFileBytes, long CheckpointBytes);
