namespace LinqStream.Orleans.Channels;

/// <summary>
/// A channel cannot go on: the sender was fenced by a newer epoch, the receiver lost its state (its silo died), or the calls kept
/// failing for the sender's retry limit. None is retried: the job rolls back to its last complete checkpoint.
/// </summary>
internal sealed class ChannelException(string channel, ChannelAckStatus status, string message, Exception? innerException = null)
    : InvalidOperationException(message, innerException)
{
    /// <summary>Gets the channel's name.</summary>
    public string Channel { get; } = channel;

    /// <summary>Gets the receiver's answer.</summary>
    public ChannelAckStatus Status { get; } = status;
}
