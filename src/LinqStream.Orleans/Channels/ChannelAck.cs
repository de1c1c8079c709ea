namespace LinqStream.Orleans.Channels;

/// <summary>How a receiver answered a frame or a credit request.</summary>
internal enum ChannelAckStatus : byte
{
    /// <summary>The receiver holds the frame (or already held it: a retried call) or answers a credit request.</summary>
    Accepted,

    /// <summary>The frame's epoch is older than the receiver's: the sender was fenced (a newer run of the job owns the channel).</summary>
    StaleEpoch,

    /// <summary>The receiver was not opened for the frame's epoch: it lost its state (its silo died) or was not opened yet.</summary>
    NotOpen,

    /// <summary>The frame's sequence is beyond the credit the receiver granted: a sender that does not follow the protocol.</summary>
    OverLimit,

    /// <summary>Never a receiver's answer: the sender's own verdict when its calls kept failing for its retry limit (the receiver's
    /// silo is gone or cut off). The sender gives up; the job rolls back.</summary>
    Unreachable,
}

/// <summary>
/// A receiver's acknowledgement: every frame up to <see cref="ReceivedThrough"/> is held in order, and frames up to
/// <see cref="Limit"/> may be sent (the credit: the receiver's bounded buffer has room for them).
/// </summary>
[GenerateSerializer]
[Alias("LinqStream.Orleans.ChannelAck")]
internal readonly record struct ChannelAck(
    [property: Id(0)] ChannelAckStatus Status,
    [property: Id(1)] long Epoch,
    [property: Id(2)] long ReceivedThrough,
    [property: Id(3)] long Limit);
