using LinqStream.Temporal;

namespace LinqStream.Physical.Join;

/// <summary>
/// Everything a temporal join holds between two calls, as plain data: the input watermarks, the events buffered ahead of
/// the other input, the live events of each side and the results held back. A checkpoint serializes this record and a
/// restore gives it to a new operator (<c>TemporalJoinOperator.Restore</c>).
/// </summary>
/// <typeparam name="TLeft">The left payload type.</typeparam>
/// <typeparam name="TRight">The right payload type.</typeparam>
/// <typeparam name="TKey">The join key type.</typeparam>
/// <param name="Kind">The kind of join the state belongs to.</param>
/// <param name="LeftWatermark">The last watermark of the left input.</param>
/// <param name="RightWatermark">The last watermark of the right input.</param>
/// <param name="Frontier">Every buffered event that starts before this time has been processed.</param>
/// <param name="OutputWatermark">The last watermark sent downstream.</param>
/// <param name="LeftCompleted">Whether the left input completed.</param>
/// <param name="RightCompleted">Whether the right input completed.</param>
/// <param name="LeftBuffered">Left events not processed yet, in start order.</param>
/// <param name="RightBuffered">Right events not processed yet, in start order.</param>
/// <param name="LeftLive">Processed left events still alive at the frontier, or still waiting for their outer-join decision, in the order they were processed (ties included: see LiveEvents.InsertionOrder).</param>
/// <param name="RightLive">Processed right events still alive at the frontier, in the order they were processed.</param>
/// <param name="PendingResults">Matched pairs a left-outer join holds back, in start order.</param>
internal sealed record JoinState<TLeft, TRight, TKey>(
    JoinKind Kind,
    long LeftWatermark,
    long RightWatermark,
    long Frontier,
    long OutputWatermark,
    bool LeftCompleted,
    bool RightCompleted,
    IReadOnlyList<StreamEvent<TLeft>> LeftBuffered,
    IReadOnlyList<StreamEvent<TRight>> RightBuffered,
    IReadOnlyList<LiveEvent<TLeft, TKey>> LeftLive,
    IReadOnlyList<LiveEvent<TRight, TKey>> RightLive,
    IReadOnlyList<PendingResult<TLeft, TRight>> PendingResults)
{
    /// <summary>Gets a value indicating whether the join holds no event and no result.</summary>
    public bool IsEmpty =>
        LeftBuffered.Count == 0 && RightBuffered.Count == 0 && LeftLive.Count == 0 && RightLive.Count == 0 && PendingResults.Count == 0;
}

/// <summary>A processed event in a join's state.</summary>
/// <typeparam name="T">The payload type.</typeparam>
/// <typeparam name="TKey">The join key type.</typeparam>
/// <param name="Start">The event's start.</param>
/// <param name="End">The event's end (exclusive).</param>
/// <param name="HasKey">Whether the event has a key; a left event with a null key is kept by outer joins only, and matches nothing.</param>
/// <param name="Key">The event's key (default when <paramref name="HasKey"/> is false).</param>
/// <param name="Payload">The event's payload.</param>
/// <param name="Matched">Whether the event overlapped an event of the other side with an equal key (left side of outer joins).</param>
/// <param name="AwaitingDecision">Whether the event waits in the outer join's queue, which releases results in start order.</param>
/// <param name="Expired">Whether the event's end has passed, so it matches nothing more and only waits for the queue.</param>
internal readonly record struct LiveEvent<T, TKey>(
    long Start, long End, bool HasKey, TKey? Key, T Payload, bool Matched, bool AwaitingDecision, bool Expired);

/// <summary>A matched pair held back by a left-outer join; its result is <c>resultSelector(Left, Right)</c> with lifetime <c>[Start, End)</c>.</summary>
/// <typeparam name="TLeft">The left payload type.</typeparam>
/// <typeparam name="TRight">The right payload type.</typeparam>
/// <param name="Start">The result's start.</param>
/// <param name="End">The result's end (exclusive).</param>
/// <param name="Left">The left payload.</param>
/// <param name="Right">The right payload.</param>
internal readonly record struct PendingResult<TLeft, TRight>(long Start, long End, TLeft Left, TRight Right);
