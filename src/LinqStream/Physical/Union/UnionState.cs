namespace LinqStream.Physical.Union;

/// <summary>The state of a <see cref="UnionOperator{T}"/> as plain data, for checkpoints and tests.</summary>
/// <param name="OutputWatermark">The last watermark sent downstream.</param>
/// <param name="Inputs">Each input's progress and the events buffered from it, in input order.</param>
internal sealed record UnionState<T>(long OutputWatermark, IReadOnlyList<UnionInputState<T>> Inputs);

/// <summary>One input of a union: its progress and the events waiting for the other inputs to catch up.</summary>
/// <param name="Watermark">The input's last watermark.</param>
/// <param name="LastStart">The start of the input's last event (its later events start no earlier).</param>
/// <param name="Completed">Whether the input completed.</param>
/// <param name="Buffered">The events received and not yet sent downstream, in start order.</param>
internal sealed record UnionInputState<T>(long Watermark, long LastStart, bool Completed, IReadOnlyList<StreamEvent<T>> Buffered);
