namespace LinqStream.Physical.Aggregate;

/// <summary>The state of a window aggregate as plain data: every open group, its window, its key and each aggregate's accumulator.</summary>
/// <param name="Groups">The open (window or pane, key) groups, in start order.</param>
/// <param name="Watermark">The last watermark the operator sent downstream.</param>
internal sealed record WindowAggregateState<TKey>(IReadOnlyList<GroupState<TKey>> Groups, long Watermark)
{
    /// <summary>Gets, for pane-built hopping windows, the first window start not yet emitted.</summary>
    public long NextWindowStart { get; init; } = long.MinValue;
}

/// <summary>One open group.</summary>
/// <param name="Start">The window's start (ticks).</param>
/// <param name="End">The window's end (ticks).</param>
/// <param name="Key">The key (default for a whole-window aggregate or a null key).</param>
/// <param name="Kind">Keyed, the null key, or the whole window.</param>
/// <param name="Accumulators">One entry per aggregate column, as the column captured it.</param>
internal sealed record GroupState<TKey>(long Start, long End, TKey Key, GroupKind Kind, object?[] Accumulators);

internal enum GroupKind
{
    Keyed,
    NullKey,
    Whole,
}

/// <summary>The state of a session aggregate as plain data: every session not yet emitted.</summary>
/// <param name="Sessions">The sessions, in order of end.</param>
/// <param name="Watermark">The last watermark the operator sent downstream.</param>
internal sealed record SessionAggregateState<TKey>(IReadOnlyList<SessionState<TKey>> Sessions, long Watermark);

/// <summary>One session not yet emitted.</summary>
/// <param name="Key">The key (default for a whole-stream session or a null key).</param>
/// <param name="Start">The first event's time.</param>
/// <param name="End">The last event's time plus the gap (capped by the maximum duration).</param>
/// <param name="Current">Whether it is its key's open session (later events may still extend it).</param>
/// <param name="Accumulators">One entry per aggregate column.</param>
internal sealed record SessionState<TKey>(TKey Key, long Start, long End, bool Current, object?[] Accumulators);
