using System.Text;
using LinqStream.Runtime;

namespace LinqStream.Orleans.Channels;

/// <summary>A task's typed end of a cross-silo channel: batches, watermarks, barriers, completion and errors, in order, over a <see cref="ChannelSender"/>.</summary>
/// <typeparam name="T">The payload type.</typeparam>
internal sealed class ChannelWriter<T>(ChannelSender sender, EventBatchCodec<T> codec)
{
    /// <summary>Gets the protocol's sending end.</summary>
    public ChannelSender Sender { get; } = sender;

    /// <summary>Sends the live events of a batch (the caller keeps the batch; it was encoded).</summary>
    public ValueTask SendBatchAsync(EventBatch<T> batch, CancellationToken cancellationToken = default) =>
        Sender.SendAsync(codec.Encode(batch), cancellationToken);

    /// <summary>Sends a watermark.</summary>
    public ValueTask SendWatermarkAsync(long watermark, CancellationToken cancellationToken = default) =>
        Sender.SendAsync(ChannelFrame.Control(ChannelFrameKind.Watermark, watermark), cancellationToken);

    /// <summary>Sends checkpoint barrier <paramref name="id"/> after the data before it.</summary>
    public ValueTask SendBarrierAsync(long id, CancellationToken cancellationToken = default) =>
        Sender.SendAsync(ChannelFrame.Control(ChannelFrameKind.Barrier, id), cancellationToken);

    /// <summary>Sends the failure of the sending task, in order with the data.</summary>
    public ValueTask SendErrorAsync(string message, CancellationToken cancellationToken = default) =>
        Sender.SendAsync(new ChannelFrame { Kind = ChannelFrameKind.Error, Payload = Encoding.UTF8.GetBytes(message) }, cancellationToken);

    /// <summary>Sends the completion and waits until the receiver holds everything.</summary>
    public async ValueTask CompleteAsync(CancellationToken cancellationToken = default)
    {
        await Sender.SendAsync(ChannelFrame.Control(ChannelFrameKind.Completed, 0), cancellationToken).ConfigureAwait(false);
        await Sender.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
