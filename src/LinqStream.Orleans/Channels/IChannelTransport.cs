namespace LinqStream.Orleans.Channels;

/// <summary>
/// How a <see cref="ChannelSender"/> reaches its <see cref="ChannelReceiver"/>: grain calls on a cluster
/// (<see cref="GrainChannelTransport"/>), which Orleans delivers at most once and in no particular order.
/// </summary>
internal interface IChannelTransport
{
    /// <summary>Gets the channel's name, for messages.</summary>
    string Name { get; }

    /// <summary>Delivers frames of consecutive sequence numbers in one call; the call may fail, before or after the receiver got them.</summary>
    Task<ChannelAck> PushAsync(ChannelFrame[] frames);

    /// <summary>Asks for credit: answers when frame <paramref name="sequence"/> may be sent, or after the receiver's wait limit with the current state.</summary>
    Task<ChannelAck> WaitForCreditAsync(long epoch, long sequence);
}
