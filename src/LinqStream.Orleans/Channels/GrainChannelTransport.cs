namespace LinqStream.Orleans.Channels;

/// <summary>A channel's frames as calls to the receiving task's <see cref="IChannelEndpointGrain"/>.</summary>
internal sealed class GrainChannelTransport(IChannelEndpointGrain endpoint, string channel) : IChannelTransport
{
    /// <inheritdoc/>
    public string Name { get; } = $"{endpoint.GetPrimaryKeyString()}/{channel}";

    /// <inheritdoc/>
    public Task<ChannelAck> PushAsync(ChannelFrame[] frames) => endpoint.PushAsync(channel, frames);

    /// <inheritdoc/>
    public Task<ChannelAck> WaitForCreditAsync(long epoch, long sequence) => endpoint.WaitForCreditAsync(channel, epoch, sequence);
}
