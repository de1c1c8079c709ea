namespace LinqStream.Orleans.Channels;

/// <summary>
/// The sending end of an ordered, lossless, credit-limited channel over calls that may fail, be retried or arrive out of order.
/// Frames get sequence numbers 1, 2, ... of the sender's epoch; every frame stays here until the receiver acknowledges it (a
/// failed call is sent again: the receiver drops the copy it may already hold); at most <c>Limit - ReceivedThrough</c> frames
/// (the receiver's credit) are unacknowledged, so a slow receiver stops the sender instead of filling memory. Failed calls are
/// retried for a bounded time only: when they keep failing for the retry limit, the receiver is taken as lost
/// (<see cref="ChannelAckStatus.Unreachable"/>) and the job rolls back.
/// </summary>
/// <remarks>
/// One caller at a time (the task that owns the channel). Calls are pipelined: up to the credit are in flight together.
/// Per frame (a batch of events, never one event) one call and one small record; nothing per event.
/// </remarks>
internal sealed class ChannelSender
{
    private readonly IChannelTransport _transport;
    private readonly TimeProvider _time;
    private readonly TimeSpan _maxBackoff;
    private readonly TimeSpan _retryLimit;

    // Frames not yet acknowledged, by sequence: slot (sequence & mask). A frame has one call in flight until it is acknowledged.
    private Entry[] _window = new Entry[8];
    private long _next = 1;
    private long _ackedThrough;
    private long _limit;
    private int _failures;
    private long _failingSince; // the timestamp of the first failure of the current run of failures; 0 when the last call succeeded

    /// <param name="transport">The calls to the receiver.</param>
    /// <param name="epoch">The job's epoch: a receiver opened for a newer one refuses these frames.</param>
    /// <param name="time">The clock of the back-off between retries.</param>
    /// <param name="maxBackoff">The longest wait before a failed call is sent again; the default value is 1 second.</param>
    /// <param name="retryLimit">How long calls may fail in a row (every retry failing too) before the sender gives up with
    /// <see cref="ChannelAckStatus.Unreachable"/>; the default value is <see cref="DefaultRetryLimit"/> (30 seconds).</param>
    public ChannelSender(IChannelTransport transport, long epoch, TimeProvider? time = null, TimeSpan? maxBackoff = null, TimeSpan? retryLimit = null)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epoch);
        _transport = transport;
        Epoch = epoch;
        _time = time ?? TimeProvider.System;
        _maxBackoff = maxBackoff ?? TimeSpan.FromSeconds(1);
        _retryLimit = retryLimit ?? DefaultRetryLimit;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_retryLimit.Ticks, nameof(retryLimit));
    }

    /// <summary>Gets the default time calls may fail in a row before a sender gives up: longer than Orleans takes to declare a
    /// silo dead with the short failure detection (about 2 s) and than a call's timeout on a loaded machine, short enough that a
    /// receiver that is gone ends the epoch even when nothing else notices.</summary>
    public static TimeSpan DefaultRetryLimit { get; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets the sender's epoch.</summary>
    public long Epoch { get; }

    /// <summary>Gets the number of frames sent and not yet acknowledged (at most the receiver's credit).</summary>
    public int Unacknowledged => (int)(_next - 1 - _ackedThrough);

    /// <summary>Gets the most frames that were unacknowledged at once (tests check it against the receiver's capacity).</summary>
    public int MaxUnacknowledged { get; private set; }

    /// <summary>Gets the number of calls that failed and were sent again.</summary>
    public long Retries { get; private set; }

    /// <summary>Gets the highest sequence the receiver acknowledged.</summary>
    public long AcknowledgedThrough => _ackedThrough;

    /// <summary>Sends a frame: waits for credit, gives it the next sequence number and starts its call (not awaited).</summary>
    /// <exception cref="ChannelException">The receiver refused the channel (fenced sender, receiver without state).</exception>
    public async ValueTask SendAsync(ChannelFrame frame, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(frame);
        while (_next > _limit)
        {
            await WaitForCreditAsync(cancellationToken).ConfigureAwait(false);
        }

        frame.Epoch = Epoch;
        frame.Sequence = _next;
        if (_next - _ackedThrough > _window.Length)
        {
            Grow();
        }

        ref var entry = ref _window[_next & (_window.Length - 1)];
        entry.Frame = frame;
        entry.Call = _transport.PushAsync(frame);
        _next++;
        MaxUnacknowledged = Math.Max(MaxUnacknowledged, Unacknowledged);
    }

    /// <summary>Waits until the receiver holds every frame sent.</summary>
    /// <exception cref="ChannelException">The receiver refused the channel.</exception>
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        while (_ackedThrough < _next - 1)
        {
            await AwaitOldestAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask WaitForCreditAsync(CancellationToken cancellationToken)
    {
        if (_ackedThrough < _next - 1)
        {
            // Calls in flight: their answers carry the credit.
            await AwaitOldestAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        // Everything is acknowledged and the receiver's buffer is full (its consumer is slow): ask, and wait for its answer.
        cancellationToken.ThrowIfCancellationRequested();
        ChannelAck ack;
        try
        {
            ack = await _transport.WaitForCreditAsync(Epoch, _next).ConfigureAwait(false);
        }
        catch (Exception error) when (error is not ChannelException and not OperationCanceledException)
        {
            await BackOffAsync(error, $"a request for credit after frame {_next - 1}", cancellationToken).ConfigureAwait(false);
            return;
        }

        Succeeded();
        Apply(ack);
    }

    /// <summary>Awaits the call of the oldest unacknowledged frame; sends it again when the call failed.</summary>
    private async ValueTask AwaitOldestAsync(CancellationToken cancellationToken)
    {
        long sequence = _ackedThrough + 1;
        ref var entry = ref _window[sequence & (_window.Length - 1)];
        var call = entry.Call!;
        ChannelAck ack;
        try
        {
            ack = await call.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is not ChannelException and not OperationCanceledException)
        {
            // Lost before or after the receiver got it: send the same frame again (a copy it holds is dropped there).
            await BackOffAsync(error, $"frame {sequence}", cancellationToken).ConfigureAwait(false);
            Retries++;
            ref var again = ref _window[sequence & (_window.Length - 1)];
            again.Call = _transport.PushAsync(again.Frame!);
            return;
        }

        Succeeded();
        Apply(ack);
        if (_ackedThrough < sequence)
        {
            // The receiver held this frame when it answered, so it acknowledges it; anything else breaks the protocol.
            throw new ChannelException(_transport.Name, ack.Status,
                $"The receiver of channel '{_transport.Name}' accepted frame {sequence} of epoch {Epoch} but acknowledges only up to {ack.ReceivedThrough}; it lost frames it had accepted.");
        }
    }

    private void Apply(ChannelAck ack)
    {
        switch (ack.Status)
        {
            case ChannelAckStatus.Accepted:
                break;
            case ChannelAckStatus.StaleEpoch:
                throw new ChannelException(_transport.Name, ack.Status,
                    $"Channel '{_transport.Name}' refused epoch {Epoch}: its receiver belongs to epoch {ack.Epoch}, a newer run of the job. This sender was fenced and stops.");
            case ChannelAckStatus.NotOpen:
                throw new ChannelException(_transport.Name, ack.Status,
                    $"The receiver of channel '{_transport.Name}' is not open for epoch {Epoch} (it is at epoch {ack.Epoch}): it lost its state, for example because its silo died. The job must roll back to its last checkpoint.");
            default:
                throw new ChannelException(_transport.Name, ack.Status,
                    $"The receiver of channel '{_transport.Name}' refused a frame beyond its credit ({ack.Limit}) in epoch {Epoch}.");
        }

        for (long s = _ackedThrough + 1; s <= ack.ReceivedThrough && s < _next; s++)
        {
            _window[s & (_window.Length - 1)] = default; // the frame and its call are no longer needed
        }

        _ackedThrough = Math.Max(_ackedThrough, Math.Min(ack.ReceivedThrough, _next - 1));
        _limit = Math.Max(_limit, ack.Limit);
    }

    private void Succeeded()
    {
        _failures = 0;
        _failingSince = 0;
    }

    /// <summary>After a failed call: gives up when calls have failed in a row for the retry limit, else waits before the retry.</summary>
    /// <exception cref="ChannelException">The calls kept failing for the retry limit (<see cref="ChannelAckStatus.Unreachable"/>).</exception>
    private async ValueTask BackOffAsync(Exception error, string what, CancellationToken cancellationToken)
    {
        if (_failingSince == 0)
        {
            _failingSince = _time.GetTimestamp();
        }
        else if (_time.GetElapsedTime(_failingSince) is var failing && failing >= _retryLimit)
        {
            throw new ChannelException(_transport.Name, ChannelAckStatus.Unreachable, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"The calls of channel '{_transport.Name}' (epoch {Epoch}) failed for {failing.TotalSeconds:F1} s in a row ({_failures + 1} failures; the last one, for {what}: {error.Message}). Its receiver is taken as lost (the retry limit is {_retryLimit.TotalSeconds:F1} s): the job must roll back to its last checkpoint."),
                error);
        }

        // 1, 2, 4, ... ms up to the maximum: a failing silo is not flooded, a single lost call costs about a millisecond.
        int shift = Math.Min(_failures++, 20);
        var delay = TimeSpan.FromTicks(Math.Min(TimeSpan.TicksPerMillisecond << shift, _maxBackoff.Ticks));
        await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
    }

    private void Grow()
    {
        var larger = new Entry[_window.Length * 2];
        for (long s = _ackedThrough + 1; s < _next; s++)
        {
            larger[s & (larger.Length - 1)] = _window[s & (_window.Length - 1)];
        }

        _window = larger;
    }

    private struct Entry
    {
        public ChannelFrame? Frame;
        public Task<ChannelAck>? Call;
    }
}
