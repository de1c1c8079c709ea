namespace LinqStream.Orleans.Channels;

/// <summary>
/// The receiving side of cross-silo channels on the silo where Orleans placed it: a task's inputs. The key names the task
/// (<c>{job}/{stage}/{index}</c>); each of its channels has a name of its own (the sending task).
/// </summary>
[Alias("LinqStream.Orleans.IChannelEndpointGrain")]
internal interface IChannelEndpointGrain : IGrainWithStringKey
{
    /// <summary>Opens channel <paramref name="channel"/> for <paramref name="epoch"/> with room for <paramref name="capacity"/> frames (a newer epoch replaces an open one).</summary>
    /// <returns>The silo the channel's frames arrive at.</returns>
    [Alias("Open")]
    Task<SiloAddress> OpenAsync(string channel, long epoch, int capacity);

    /// <summary>Takes frames of consecutive sequence numbers of channel <paramref name="channel"/> (one call, one cumulative acknowledgement).</summary>
    [Alias("PushFrames")]
    Task<ChannelAck> PushAsync(string channel, ChannelFrame[] frames);

    /// <summary>Answers when frame <paramref name="sequence"/> may be sent, or after a few seconds with the current credit.</summary>
    [Alias("WaitForCredit")]
    Task<ChannelAck> WaitForCreditAsync(string channel, long epoch, long sequence);
}
