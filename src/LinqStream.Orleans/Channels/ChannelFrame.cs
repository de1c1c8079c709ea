namespace LinqStream.Orleans.Channels;

/// <summary>What a <see cref="ChannelFrame"/> carries (the in-process channel's message kinds, <c>Parallel/SpscChannel.cs</c>).</summary>
internal enum ChannelFrameKind : byte
{
    /// <summary>A batch of events ordered by start, encoded by <see cref="EventBatchCodec{T}"/>.</summary>
    Batch,

    /// <summary>A watermark (in <see cref="ChannelFrame.Value"/>): no later event on this channel starts before it.</summary>
    Watermark,

    /// <summary>A checkpoint barrier (its number in <see cref="ChannelFrame.Value"/>).</summary>
    Barrier,

    /// <summary>The sender is done.</summary>
    Completed,

    /// <summary>The sender failed; the payload is the UTF-8 message, in order with the data.</summary>
    Error,
}

/// <summary>
/// One message on a cross-silo channel: the sender's epoch and the message's sequence number (1, 2, ... within the epoch), so
/// the receiver can put calls that Orleans delivered out of order back in order, drop a retried call it already has, and refuse
/// a sender of an older epoch.
/// </summary>
[GenerateSerializer]
[Alias("LinqStream.Orleans.ChannelFrame")]
internal sealed class ChannelFrame
{
    /// <summary>Gets or sets the sender's epoch (set by <see cref="ChannelSender"/>).</summary>
    [Id(0)]
    public long Epoch { get; set; }

    /// <summary>Gets or sets the sequence number within the epoch (set by <see cref="ChannelSender"/>), from 1.</summary>
    [Id(1)]
    public long Sequence { get; set; }

    /// <summary>Gets or sets what the frame carries.</summary>
    [Id(2)]
    public ChannelFrameKind Kind { get; set; }

    /// <summary>Gets or sets the watermark or the barrier number; of a batch frame with <see cref="WatermarkAfter"/>, the watermark that follows its events.</summary>
    [Id(3)]
    public long Value { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether a batch frame carries the watermark that followed its events (in <see cref="Value"/>):
    /// a coalesced frame (<see cref="ChannelWriter{T}.AddAsync"/>) takes the events of several batches and the last watermark among them,
    /// which the receiver applies after the events. One frame and one call fewer per watermark.
    /// </summary>
    [Id(7)]
    public bool WatermarkAfter { get; set; }

    /// <summary>Gets or sets the number of events of a batch.</summary>
    [Id(4)]
    public int Count { get; set; }

    /// <summary>Gets or sets a control frame's bytes: the error message, a barrier's or completion's key groups (a batch's are in <see cref="Columns"/>).</summary>
    /// <remarks>
    /// <c>[Immutable]</c>: Orleans deep-copies a call's arguments when it is made (and only then serializes them for a remote silo),
    /// which for a batch frame was a second copy of every byte (issue #17: three arrays of the frame's size per call). No side
    /// writes a payload after the frame is made (the codec writes a new array per frame, the receiver only reads it), so the copy
    /// is skipped; a call to a grain on the same silo then shares the array.
    /// </remarks>
    [Id(5)]
    [Immutable]
    public byte[] Payload { get; set; } = [];

    /// <summary>Gets or sets a batch frame's encoded columns (<see cref="EventBatchCodec{T}"/>), in an array rented from the pool.</summary>
    /// <remarks><c>[Immutable]</c>: no deep copy at the call (see <see cref="FrameColumns"/> for who owns which array).</remarks>
    [Id(6)]
    [Immutable]
    public FrameColumns? Columns { get; set; }

    /// <summary>A frame without payload (watermark, barrier, completion).</summary>
    public static ChannelFrame Control(ChannelFrameKind kind, long value) => new() { Kind = kind, Value = value };

    /// <inheritdoc/>
    public override string ToString() => $"{Kind} #{Sequence} (epoch {Epoch}, value {Value}{(WatermarkAfter ? ", watermark after" : "")}, {Count} events, {Columns?.Length ?? Payload.Length} bytes)";

    /// <summary>Gives a batch frame's columns back to the pool (the frame was decoded, dropped as a copy, or acknowledged); nothing for a control frame.</summary>
    public void Release() => Columns?.Return();
}
