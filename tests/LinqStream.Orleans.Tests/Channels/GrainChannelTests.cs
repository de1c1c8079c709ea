using LinqStream.Orleans.Channels;
using Microsoft.Extensions.DependencyInjection;

namespace LinqStream.Orleans.Tests.Channels;

/// <summary>The channel over real grain calls between two silos of the 3-silo test cluster.</summary>
[Collection(ClusterCollection.Name)]
[Trait("Category", "Slow")] // Slow (fast suite skips it): the shared 3-silo test cluster with Redis clustering.
public sealed class GrainChannelTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task GrainChannel_BetweenTwoSilos_DeliversEveryMessageOnceInOrder()
    {
        var (messages, events) = ChannelTraffic.Generate(seed: 21, 400);
        var (receiver, senderSilo) = await OpenAsync("ordered", epoch: 1);
        var endpoint = Grains(senderSilo).GetGrain<IChannelEndpointGrain>(EndpointKey("ordered"));
        var sender = new ChannelSender(new GrainChannelTransport(endpoint, "source-0"), epoch: 1);
        var codec = new EventBatchCodec<Item>(BlittableColumnCodec<Item>.Instance);

        var reading = Task.Run(() => ChannelTraffic.ReadAllAsync(new ChannelReader<Item>(receiver, new(BlittableColumnCodec<Item>.Instance)), new Random(5)));
        await Task.Run(() => ChannelTraffic.SendAsync(new ChannelWriter<Item>(sender, codec), messages)).WaitAsync(Bound);
        var read = await reading.WaitAsync(Bound);

        Assert.Equal(messages.Select(m => m.Expected), read);
        Assert.Equal(events, read.Sum(m => m.Events.Length));
        Assert.InRange(receiver.MaxHeld, 1, receiver.Capacity);
    }

    [Fact]
    public async Task GrainChannel_ReceiverLostItsState_SenderFailsAsNotOpen()
    {
        var (receiver, senderSilo) = await OpenAsync("lost", epoch: 1);
        var endpoint = Grains(senderSilo).GetGrain<IChannelEndpointGrain>(EndpointKey("lost"));
        var sender = new ChannelSender(new GrainChannelTransport(endpoint, "source-0"), epoch: 1);
        await sender.SendAsync(ChannelFrame.Control(ChannelFrameKind.Watermark, 1));
        await sender.FlushAsync().AsTask().WaitAsync(Bound);
        Assert.True(receiver.TryTake(out var first));
        Assert.Equal(1, first.Value);

        // What the receiver's silo dying does to the channel: its state is gone (the next activation has no receiver).
        var hub = HubOf(await fixture.Cluster.Client.GetGrain<IChannelEndpointGrain>(EndpointKey("lost")).OpenAsync("source-0", 1, 8));
        hub.Close(EndpointKey("lost"), "source-0");
        await sender.SendAsync(ChannelFrame.Control(ChannelFrameKind.Watermark, 2));
        var refused = await Assert.ThrowsAsync<ChannelException>(() => sender.FlushAsync().AsTask().WaitAsync(Bound));

        Assert.Equal(ChannelAckStatus.NotOpen, refused.Status);
        Assert.Contains("lost its state", refused.Message, StringComparison.Ordinal);
    }

    private string EndpointKey(string name) => $"{fixture.Prefix}/{name}/agg/0";

    /// <summary>Opens the channel on whatever silo Orleans places the endpoint, and picks another silo to send from.</summary>
    private async Task<(ChannelReceiver Receiver, SiloAddress SenderSilo)> OpenAsync(string name, long epoch)
    {
        var silo = await fixture.Cluster.Client.GetGrain<IChannelEndpointGrain>(EndpointKey(name)).OpenAsync("source-0", epoch, 8);
        var receiver = HubOf(silo).Find(EndpointKey(name), "source-0");
        Assert.NotNull(receiver);
        var other = fixture.Cluster.GetActiveSilos().First(s => !s.SiloAddress.Equals(silo)).SiloAddress;
        return (receiver, other);
    }

    private ChannelHub HubOf(SiloAddress silo) => fixture.Cluster.GetSiloServiceProvider(silo).GetRequiredService<ChannelHub>();

    /// <summary>A silo's own grain factory: calls made with it go from that silo to the endpoint's silo.</summary>
    private IGrainFactory Grains(SiloAddress silo) => fixture.Cluster.GetSiloServiceProvider(silo).GetRequiredService<IGrainFactory>();
}
