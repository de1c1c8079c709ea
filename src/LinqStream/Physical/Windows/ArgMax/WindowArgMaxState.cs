namespace LinqStream.Physical.Windows.ArgMax;

/// <summary>What a <c>WindowArgMaxOperator</c> holds between two calls, as plain data for checkpoints.</summary>
/// <typeparam name="T">The input payload type.</typeparam>
/// <param name="Watermark">The last input watermark.</param>
/// <param name="Open">Whether a window (a group of events with one start) is open.</param>
/// <param name="GroupStart">The open window's start.</param>
/// <param name="Max">The open window's maximum so far.</param>
/// <param name="Tied">The open window's events at that maximum, in arrival order.</param>
internal sealed record WindowArgMaxState<T>(long Watermark, bool Open, long GroupStart, long Max, IReadOnlyList<StreamEvent<T>> Tied);
