namespace LinqStream.Orleans.Channels;

/// <summary>
/// The receiving end of a cross-silo channel: holds frames by sequence number in a buffer of <see cref="Capacity"/> frames,
/// hands them to the consumer in order, drops copies of frames it already has (retried calls) and refuses senders of another
/// epoch. Its answers grant credit: the sender may send up to <c>consumed + Capacity</c>, so at most that many frames wait here.
/// </summary>
/// <remarks>
/// Frames arrive on Orleans' threads (the grain's calls) and are taken on the consumer's task, so the state is under a lock,
/// taken once per frame (a batch of events), never per event.
/// </remarks>
internal sealed class ChannelReceiver
{
    private readonly Lock _gate = new();
    private readonly ChannelFrame?[] _buffer;
    private readonly int _mask;
    private readonly TimeProvider _time;
    private long _receivedThrough;
    private long _consumedThrough;
    private int _held;
    private TaskCompletionSource? _frameWaiter;
    private TaskCompletionSource? _creditWaiter;

    /// <param name="name">The channel's name, for messages.</param>
    /// <param name="epoch">The epoch of the run that opened it: frames of any other epoch are refused.</param>
    /// <param name="capacity">The frames the receiver holds at most (rounded up to a power of two); the default value is 8, the in-process channel's ring.</param>
    /// <param name="time">The clock of the credit requests' wait limit.</param>
    public ChannelReceiver(string name, long epoch, int capacity = 8, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epoch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Name = name;
        Epoch = epoch;
        _buffer = new ChannelFrame?[(int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity)];
        _mask = _buffer.Length - 1;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Gets the channel's name.</summary>
    public string Name { get; }

    /// <summary>Gets the epoch it was opened for.</summary>
    public long Epoch { get; }

    /// <summary>Gets the frames it holds at most.</summary>
    public int Capacity => _buffer.Length;

    /// <summary>Gets the number of copies of frames it already had (retried calls), dropped.</summary>
    public long Duplicates { get; private set; }

    /// <summary>Gets the most frames held at once.</summary>
    public int MaxHeld { get; private set; }

    /// <summary>Gets the highest sequence held with every frame before it.</summary>
    public long ReceivedThrough
    {
        get
        {
            lock (_gate)
            {
                return _receivedThrough;
            }
        }
    }

    /// <summary>Takes a frame (a call with one frame).</summary>
    /// <returns>The acknowledgement and credit, or the refusal.</returns>
    public ChannelAck Push(ChannelFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return Push([frame]);
    }

    /// <summary>
    /// Takes the frames of one call (consecutive sequence numbers, in order): each is held, or dropped when it is a copy of one
    /// held or handed over before (a retried or duplicated call). One answer for the call: the acknowledgement is cumulative
    /// (<see cref="ChannelAck.ReceivedThrough"/>: every frame up to it is here), so frames that arrive before a missing one are
    /// held and acknowledged once the gap is filled.
    /// </summary>
    /// <returns>The acknowledgement and credit, or the refusal (at the first frame refused; the call's frames before it are held).</returns>
    public ChannelAck Push(ChannelFrame[] frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        TaskCompletionSource? wake;
        ChannelAck ack;
        lock (_gate)
        {
            long before = _receivedThrough;
            var status = ChannelAckStatus.Accepted;
            for (int i = 0; i < frames.Length; i++)
            {
                var frame = frames[i];
                if (frame.Epoch != Epoch || frame.Sequence > _consumedThrough + _buffer.Length)
                {
                    status = frame.Epoch < Epoch ? ChannelAckStatus.StaleEpoch : frame.Epoch > Epoch ? ChannelAckStatus.NotOpen : ChannelAckStatus.OverLimit;
                    Discard(frames, i);
                    break;
                }

                ref var slot = ref _buffer[frame.Sequence & _mask];
                if (frame.Sequence <= _receivedThrough || slot is not null)
                {
                    Duplicates++;
                    Discard(frame);
                    continue;
                }

                slot = Own(frame);
                _held++;
            }

            MaxHeld = Math.Max(MaxHeld, _held);
            wake = Advance(before);
            ack = Answer(status);
        }

        wake?.TrySetResult();
        return ack;
    }

    /// <summary>Gives back the pooled columns of frames that were read off the wire and are not kept (a refused call's frames from <paramref name="from"/>).</summary>
    public static void Discard(ChannelFrame[] frames, int from = 0)
    {
        for (int i = from; i < frames.Length; i++)
        {
            Discard(frames[i]);
        }
    }

    private static void Discard(ChannelFrame frame)
    {
        if (frame.Columns is { FromWire: true })
        {
            frame.Release(); // ours (read off the wire); an instance shared with a sender on this silo is the sender's to return
        }
    }

    /// <summary>The frame as held here: with its columns in an array of the receiver's own (a call on one silo shares the sender's).</summary>
    private static ChannelFrame Own(ChannelFrame frame) => frame.Columns is { FromWire: false } shared
        ? new ChannelFrame { Epoch = frame.Epoch, Sequence = frame.Sequence, Kind = frame.Kind, Value = frame.Value, WatermarkAfter = frame.WatermarkAfter, Count = frame.Count, Payload = frame.Payload, Columns = shared.TakeOwnership() }
        : frame;

    /// <summary>Moves <see cref="ReceivedThrough"/> over the frames now held in sequence; the consumer's waiter when it moved.</summary>
    private TaskCompletionSource? Advance(long before)
    {
        while (_receivedThrough - _consumedThrough < _buffer.Length && _buffer[(_receivedThrough + 1) & _mask] is { } next && next.Sequence == _receivedThrough + 1)
        {
            _receivedThrough++;
        }

        if (_receivedThrough == before)
        {
            return null;
        }

        var wake = _frameWaiter;
        _frameWaiter = null;
        return wake;
    }

    /// <summary>Answers when frame <paramref name="sequence"/> may be sent, or after <paramref name="maxWait"/> with the current credit.</summary>
    public async Task<ChannelAck> WaitForCreditAsync(long epoch, long sequence, TimeSpan maxWait)
    {
        Task waiting;
        lock (_gate)
        {
            if (epoch != Epoch)
            {
                return Answer(epoch < Epoch ? ChannelAckStatus.StaleEpoch : ChannelAckStatus.NotOpen);
            }

            if (sequence <= _consumedThrough + _buffer.Length)
            {
                return Answer(ChannelAckStatus.Accepted);
            }

            _creditWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            waiting = _creditWaiter.Task;
        }

        try
        {
            await waiting.WaitAsync(maxWait, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Answer with the credit as it is; the sender asks again (a grain call must not wait longer than Orleans' response timeout).
        }

        lock (_gate)
        {
            return Answer(ChannelAckStatus.Accepted);
        }
    }

    /// <summary>Takes the next frame in sequence order if it is here; its slot's credit goes back to the sender.</summary>
    public bool TryTake(out ChannelFrame frame)
    {
        TaskCompletionSource? wake;
        lock (_gate)
        {
            if (_consumedThrough == _receivedThrough)
            {
                frame = null!;
                return false;
            }

            ref var slot = ref _buffer[(_consumedThrough + 1) & _mask];
            frame = slot!;
            slot = null;
            _consumedThrough++;
            _held--;
            wake = _creditWaiter;
            _creditWaiter = null;
        }

        wake?.TrySetResult();
        return true;
    }

    /// <summary>Completes when a frame can be taken (at once when one is here).</summary>
    public Task WaitForFrameAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_consumedThrough < _receivedThrough)
            {
                return Task.CompletedTask;
            }

            _frameWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _frameWaiter.Task.WaitAsync(cancellationToken);
        }
    }

    private ChannelAck Answer(ChannelAckStatus status) => new(status, Epoch, _receivedThrough, _consumedThrough + _buffer.Length);
}
