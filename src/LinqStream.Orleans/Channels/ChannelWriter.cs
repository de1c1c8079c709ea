using System.Text;
using LinqStream.Parallel;
using LinqStream.Runtime;

namespace LinqStream.Orleans.Channels;

/// <summary>A task's typed end of a cross-silo channel: batches, watermarks, barriers, completion and errors, in order, over a <see cref="ChannelSender"/>.</summary>
/// <typeparam name="T">The payload type.</typeparam>
/// <remarks>
/// <para>
/// Two ways to send data. <see cref="SendBatchAsync"/> and <see cref="SendWatermarkAsync"/> send one frame each, at once.
/// <see cref="AddAsync"/> and <see cref="AddWatermark"/> <b>coalesce</b> (issue #17): the live events of consecutive batches are copied
/// into one open frame of up to <see cref="FrameEvents"/> events, and a watermark among them becomes the frame's trailing
/// watermark (the last one wins: a later watermark says more, and the events after an earlier one start at or after it, so
/// sending it after them is still true). The open frame goes out when it is full, before a barrier, completion or error
/// (<see cref="SendBarrierAsync"/> and the others flush it first, so a barrier stays after the data before it), or when its
/// <see cref="Linger"/> is up (the caller, a pump, asks <see cref="LingerLeft"/> and calls <see cref="FlushAsync"/>). So a frame
/// and a call carry up to a batch of events however finely the hash exchange split them, and no event waits longer than the
/// linger before it is sent.
/// </para>
/// <para>One producer at a time (the pump that owns the channel).</para>
/// </remarks>
internal sealed class ChannelWriter<T>
{
    private readonly EventBatchCodec<T> _codec;
    private readonly TimeProvider _time;
    private EventBatch<T>? _open;
    private long _watermark;
    private bool _hasWatermark;
    private long _openedAt;

    /// <param name="sender">The protocol's sending end.</param>
    /// <param name="codec">The batches' codec.</param>
    /// <param name="frameEvents">The most events a coalesced frame holds (at most the receiver's batch size); 0: the codec's batches as they come.</param>
    /// <param name="linger">How long a coalesced frame waits for more events after the first thing put in it.</param>
    /// <param name="time">The clock of the linger.</param>
    public ChannelWriter(ChannelSender sender, EventBatchCodec<T> codec, int frameEvents = 0, TimeSpan linger = default, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(codec);
        ArgumentOutOfRangeException.ThrowIfNegative(frameEvents);
        ArgumentOutOfRangeException.ThrowIfNegative(linger.Ticks, nameof(linger));
        Sender = sender;
        _codec = codec;
        FrameEvents = frameEvents;
        Linger = linger;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Gets the protocol's sending end.</summary>
    public ChannelSender Sender { get; }

    /// <summary>Gets the most events a coalesced frame holds.</summary>
    public int FrameEvents { get; }

    /// <summary>Gets how long a coalesced frame waits for more after the first event or watermark put in it.</summary>
    public TimeSpan Linger { get; }

    /// <summary>Gets a value indicating whether the open frame holds nothing (no event, no watermark).</summary>
    public bool IsEmpty => (_open is null || _open.Count == 0) && !_hasWatermark;

    /// <summary>Gets how long the open frame may still wait (zero when its linger is up); <see cref="TimeSpan.MaxValue"/> when it is empty.</summary>
    public TimeSpan LingerLeft => IsEmpty ? TimeSpan.MaxValue : Linger - _time.GetElapsedTime(_openedAt) is { Ticks: > 0 } left ? left : TimeSpan.Zero;

    /// <summary>Sends the live events of a batch as one frame (the caller keeps the batch; it was encoded).</summary>
    public ValueTask SendBatchAsync(EventBatch<T> batch, CancellationToken cancellationToken = default) =>
        Sender.SendAsync(_codec.Encode(batch), cancellationToken);

    /// <summary>Sends a watermark as a frame of its own.</summary>
    public ValueTask SendWatermarkAsync(long watermark, CancellationToken cancellationToken = default) =>
        Sender.SendAsync(ChannelFrame.Control(ChannelFrameKind.Watermark, watermark), cancellationToken);

    /// <summary>
    /// Puts the live events of <paramref name="batch"/> into the open frame (the caller keeps the batch), sending each frame that
    /// fills up; true when a frame was sent.
    /// </summary>
    /// <exception cref="InvalidOperationException">The writer does not coalesce (<see cref="FrameEvents"/> is 0).</exception>
    public async ValueTask<bool> AddAsync(EventBatch<T> batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var open = Open();
        bool sent = false;
        int i = 0;
        while (i < batch.Count)
        {
            if (open.Count == 0 && !_hasWatermark)
            {
                _openedAt = _time.GetTimestamp();
            }

            i = Append(batch, i, open);
            if (open.Count == FrameEvents)
            {
                await FlushAsync(cancellationToken).ConfigureAwait(false);
                sent = true;
            }
        }

        return sent;
    }

    /// <summary>Puts a watermark into the open frame: it is sent after the frame's events (a later one replaces it).</summary>
    public void AddWatermark(long watermark)
    {
        if (FrameEvents == 0)
        {
            throw new InvalidOperationException("This channel writer does not coalesce.");
        }

        if (IsEmpty)
        {
            _openedAt = _time.GetTimestamp();
        }

        if (!_hasWatermark || watermark > _watermark)
        {
            _watermark = watermark;
        }

        _hasWatermark = true;
    }

    /// <summary>Sends the open frame, if anything is in it: its events with the watermark after them, or the watermark alone.</summary>
    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        if (IsEmpty)
        {
            return ValueTask.CompletedTask;
        }

        ChannelFrame frame;
        if (_open is { Count: > 0 } open)
        {
            frame = _codec.Encode(open);
            frame.Value = _hasWatermark ? _watermark : 0;
            frame.WatermarkAfter = _hasWatermark;
            open.Reset(); // no reference kept to the payloads
        }
        else
        {
            frame = ChannelFrame.Control(ChannelFrameKind.Watermark, _watermark);
        }

        _hasWatermark = false;
        return Sender.SendAsync(frame, cancellationToken);
    }

    /// <summary>Sends checkpoint barrier <paramref name="id"/> after the data before it (the open frame first).</summary>
    public ValueTask SendBarrierAsync(long id, CancellationToken cancellationToken = default) =>
        SendAfterOpenAsync(ChannelFrame.Control(ChannelFrameKind.Barrier, id), cancellationToken);

    /// <summary>Sends a control frame (a barrier or completion with its payload) after the data before it (the open frame first).</summary>
    public ValueTask SendAfterOpenAsync(ChannelFrame frame, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return IsEmpty ? Sender.SendAsync(frame, cancellationToken) : FlushThenSendAsync(frame, cancellationToken);
    }

    /// <summary>Sends the failure of the sending task, in order with the data (the open frame first).</summary>
    public ValueTask SendErrorAsync(string message, CancellationToken cancellationToken = default) =>
        SendAfterOpenAsync(new ChannelFrame { Kind = ChannelFrameKind.Error, Payload = Encoding.UTF8.GetBytes(message) }, cancellationToken);

    /// <summary>Sends the completion (the open frame first) and waits until the receiver holds everything.</summary>
    public async ValueTask CompleteAsync(CancellationToken cancellationToken = default)
    {
        await SendAfterOpenAsync(ChannelFrame.Control(ChannelFrameKind.Completed, 0), cancellationToken).ConfigureAwait(false);
        await Sender.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A pump's next message from its local channel (the pump that sends this writer's frames): at once when one is there; else, while the writer's open frame holds
    /// something, for the rest of its linger (sending the frame when that is up, then waiting as long as it takes); null when the
    /// channel was closed. Also sends a frame whose linger is up while messages keep coming (watermarks only, say).
    /// </summary>
    public SpscChannel<T>.Slot? NextMessage(SpscChannel<T> channel, CancellationToken token)
    {
        while (true)
        {
            var left = LingerLeft;
            if (left == TimeSpan.Zero)
            {
                FlushAsync(token).AsTask().GetAwaiter().GetResult();
                continue;
            }

            if (channel.TryPeek() is { } ready)
            {
                return ready;
            }

            if (left == TimeSpan.MaxValue)
            {
                return channel.Peek(); // nothing held: wait for the next message as long as it takes
            }

            if (channel.Peek(left) is { } next)
            {
                return next;
            }

            if (channel.IsClosed)
            {
                return null;
            }
        }
    }

    private async ValueTask FlushThenSendAsync(ChannelFrame frame, CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        await Sender.SendAsync(frame, cancellationToken).ConfigureAwait(false);
    }

    private EventBatch<T> Open()
    {
        if (FrameEvents == 0)
        {
            throw new InvalidOperationException("This channel writer does not coalesce.");
        }

        return _open ??= new EventBatch<T>(FrameEvents);
    }

    /// <summary>Copies the live events of <paramref name="batch"/> from <paramref name="from"/> into <paramref name="open"/> until it is full; the index to go on from.</summary>
    private static int Append(EventBatch<T> batch, int from, EventBatch<T> open)
    {
        int room = open.Capacity - open.Count;
        int count = batch.Count;
        if (from == 0 && count <= room && batch.LiveCount() == count)
        {
            // Nothing filtered out and it all fits: three block copies.
            batch.Start.AsSpan(0, count).CopyTo(open.Start.AsSpan(open.Count));
            batch.End.AsSpan(0, count).CopyTo(open.End.AsSpan(open.Count));
            batch.Payload.AsSpan(0, count).CopyTo(open.Payload.AsSpan(open.Count));
            open.Count += count;
            return count;
        }

        int i = from;
        var absent = batch.Absent;
        for (; i < count && open.Count < open.Capacity; i++)
        {
            if ((absent[i >> 6] & (1UL << i)) == 0)
            {
                open.Add(batch.Start[i], batch.End[i], batch.Payload[i]);
            }
        }

        return i;
    }
}
