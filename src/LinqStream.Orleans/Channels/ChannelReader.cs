using System.Text;
using LinqStream.Parallel;
using LinqStream.Runtime;

namespace LinqStream.Orleans.Channels;

/// <summary>A task's typed receiving end of a cross-silo channel: the frames of a <see cref="ChannelReceiver"/> in order, batches decoded into the task's own batch.</summary>
/// <typeparam name="T">The payload type.</typeparam>
internal sealed class ChannelReader<T>(ChannelReceiver receiver, EventBatchCodec<T> codec)
{
    private bool _watermarkAfter;
    private long _watermark;

    /// <summary>Gets the protocol's receiving end.</summary>
    public ChannelReceiver Receiver { get; } = receiver;

    /// <summary>
    /// Reads the next message if it is here: a batch is appended to <paramref name="batch"/>, a watermark's or barrier's value is
    /// in <paramref name="value"/>, an error's message in <paramref name="error"/>. A batch frame that carries a watermark after its
    /// events (a coalesced frame) reads as two messages: the batch, then the watermark.
    /// </summary>
    /// <exception cref="InvalidDataException">A batch frame cannot be read (names the channel, frame and reason).</exception>
    public bool TryRead(EventBatch<T> batch, out ChannelMessage kind, out long value, out string? error)
    {
        error = null;
        if (_watermarkAfter)
        {
            // The watermark a coalesced batch frame carried after its events.
            _watermarkAfter = false;
            kind = ChannelMessage.Watermark;
            value = _watermark;
            return true;
        }

        if (!Receiver.TryTake(out var frame))
        {
            kind = default;
            value = 0;
            return false;
        }

        value = frame.Value;
        switch (frame.Kind)
        {
            case ChannelFrameKind.Batch:
                try
                {
                    codec.Decode(Receiver.Name, frame, batch);
                }
                finally
                {
                    frame.Release(); // its columns are in the batch now (or unreadable): the array goes back to the pool
                }

                kind = ChannelMessage.Batch;
                (_watermarkAfter, _watermark) = (frame.WatermarkAfter, frame.Value);
                break;
            case ChannelFrameKind.Watermark:
                kind = ChannelMessage.Watermark;
                break;
            case ChannelFrameKind.Barrier:
                kind = ChannelMessage.Barrier;
                break;
            case ChannelFrameKind.Completed:
                kind = ChannelMessage.Completed;
                break;
            case ChannelFrameKind.Error:
                kind = ChannelMessage.Error;
                error = Encoding.UTF8.GetString(frame.Payload);
                break;
            default:
                throw new InvalidDataException($"Channel '{Receiver.Name}' received frame {frame.Sequence} of epoch {frame.Epoch} of unknown kind {(byte)frame.Kind}.");
        }

        return true;
    }

    /// <summary>Completes when a message can be read.</summary>
    public Task WaitToReadAsync(CancellationToken cancellationToken = default) => _watermarkAfter ? Task.CompletedTask : Receiver.WaitForFrameAsync(cancellationToken);
}
