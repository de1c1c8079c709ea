using Orleans.Concurrency;

namespace LinqStream.Orleans.Channels;

/// <summary>
/// Puts the frames of grain calls into this silo's <see cref="ChannelHub"/>. Reentrant: a credit request that waits does not hold
/// up the frames of other calls (the receivers are thread-safe), and calls of several channels run side by side.
/// </summary>
[Reentrant]
internal sealed class ChannelEndpointGrain(ChannelHub hub, ILocalSiloDetails silo) : Grain, IChannelEndpointGrain
{
    /// <summary>How long a credit request waits at most: well under Orleans' response timeout (30 s).</summary>
    internal static readonly TimeSpan CreditWait = TimeSpan.FromSeconds(5);

    private string Endpoint => this.GetPrimaryKeyString();

    public Task<SiloAddress> OpenAsync(string channel, long epoch, int capacity)
    {
        hub.Open(Endpoint, channel, epoch, capacity);
        return Task.FromResult(silo.SiloAddress);
    }

    public Task<ChannelAck> PushAsync(string channel, ChannelFrame[] frames) => Task.FromResult(hub.Push(Endpoint, channel, frames));

    public Task<ChannelAck> WaitForCreditAsync(string channel, long epoch, long sequence) =>
        hub.Find(Endpoint, channel) is { } receiver
            ? receiver.WaitForCreditAsync(epoch, sequence, CreditWait)
            : Task.FromResult(new ChannelAck(ChannelAckStatus.NotOpen, 0, 0, 0));
}
