namespace LinqStream.Orleans.Channels;

/// <summary>
/// A channel cannot go on: the sender was fenced by a newer epoch, or the receiver lost its state (its silo died). Neither is
/// retried: the job rolls back to its last complete checkpoint.
/// </summary>
internal sealed class ChannelException(string channel, ChannelAckStatus status, string message) : InvalidOperationException(message)
{
    /// <summary>Gets the channel's name.</summary>
    public string Channel { get; } = channel;

    /// <summary>Gets the receiver's answer.</summary>
    public ChannelAckStatus Status { get; } = status;
}
