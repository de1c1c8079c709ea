namespace LinqStream.Physical.Join.Window;

/// <summary>What a window join holds between two calls, as plain data for checkpoints.</summary>
/// <typeparam name="TLeft">The left payload type.</typeparam>
/// <typeparam name="TRight">The right payload type.</typeparam>
/// <param name="LeftWatermark">The last watermark of the left input.</param>
/// <param name="RightWatermark">The last watermark of the right input.</param>
/// <param name="Frontier">Every window that starts before this time has been joined.</param>
/// <param name="OutputWatermark">The last watermark sent downstream.</param>
/// <param name="LeftCompleted">Whether the left input completed.</param>
/// <param name="RightCompleted">Whether the right input completed.</param>
/// <param name="LeftWaiting">Left events not joined yet, in arrival order (their keys are computed again on restore).</param>
/// <param name="RightWaiting">Right events not joined yet, in arrival order.</param>
internal sealed record WindowJoinState<TLeft, TRight>(
    long LeftWatermark,
    long RightWatermark,
    long Frontier,
    long OutputWatermark,
    bool LeftCompleted,
    bool RightCompleted,
    IReadOnlyList<StreamEvent<TLeft>> LeftWaiting,
    IReadOnlyList<StreamEvent<TRight>> RightWaiting);
