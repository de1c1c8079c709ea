namespace LinqStream.Orleans.Channels;

/// <summary>
/// The sending end of an ordered, lossless, credit-limited channel over calls that may fail, be retried or arrive out of order.
/// Frames get sequence numbers 1, 2, ... of the sender's epoch; every frame stays here until the receiver acknowledges it (a
/// failed call is sent again: the receiver drops the copies it may already hold); at most <c>Limit - ReceivedThrough</c> frames
/// (the receiver's credit) are unacknowledged or waiting, so a slow receiver stops the sender instead of filling memory. Failed
/// calls are retried for a bounded time only: when they keep failing for the retry limit, the receiver is taken as lost
/// (<see cref="ChannelAckStatus.Unreachable"/>) and the job rolls back.
/// </summary>
/// <remarks>
/// <para>
/// <b>Several frames per call.</b> At most <see cref="CallsInFlight"/> calls are in flight; a frame sent while they are waits and
/// goes with the next call, together with every frame that waits (up to <see cref="FramesPerCall"/>). An idle channel sends a
/// frame at once; a busy one sends fewer, larger calls, so the cost of a call (Orleans' message, scheduling, the answer) is shared
/// by the frames that queued behind the calls in flight. Each call has one answer, a cumulative acknowledgement. The calls' answers
/// are applied in the order the calls were made, so when a call's answer is applied every frame up to its last is acknowledged
/// (anything else means the receiver lost frames it had accepted).
/// </para>
/// <para>
/// One producer at a time (the task that owns the channel); the calls' answers come on other threads, so the state is under a
/// lock, taken per frame and per call, never per event. A frame's pooled columns go back to the pool when it is acknowledged.
/// </para>
/// </remarks>
internal sealed class ChannelSender
{
    /// <summary>The default number of calls in flight at once.</summary>
    public const int DefaultCallsInFlight = 2;

    /// <summary>The default most frames one call carries (the credit bounds it too).</summary>
    public const int DefaultFramesPerCall = 8;

    private readonly IChannelTransport _transport;
    private readonly TimeProvider _time;
    private readonly TimeSpan _maxBackoff;
    private readonly TimeSpan _retryLimit;
    private readonly CancellationToken _stopping;
    private readonly ExchangeStats? _stats;
    private readonly Lock _gate = new();
    private readonly Queue<Call> _calls = new(); // in flight, in the order they were made

    // Frames not yet acknowledged, by sequence: slot (sequence & mask); those after _sentThrough wait for a call.
    private ChannelFrame?[] _window = new ChannelFrame?[8];
    private long _next = 1;
    private long _sentThrough;
    private long _ackedThrough;
    private long _limit;
    private int _failures;
    private long _failingSince; // the timestamp of the first failure of the current run of failures; 0 when the last call succeeded
    private ChannelException? _fault;
    private TaskCompletionSource? _roomWaiter;
    private TaskCompletionSource? _flushWaiter;

    /// <param name="transport">The calls to the receiver.</param>
    /// <param name="epoch">The job's epoch: a receiver opened for a newer one refuses these frames.</param>
    /// <param name="time">The clock of the back-off between retries.</param>
    /// <param name="maxBackoff">The longest wait before a failed call is sent again; the default value is 1 second.</param>
    /// <param name="retryLimit">How long calls may fail in a row (every retry failing too) before the sender gives up with
    /// <see cref="ChannelAckStatus.Unreachable"/>; the default value is <see cref="DefaultRetryLimit"/> (30 seconds).</param>
    /// <param name="callsInFlight">The most calls in flight at once; the default value is <see cref="DefaultCallsInFlight"/>.</param>
    /// <param name="framesPerCall">The most frames one call carries; the default value is <see cref="DefaultFramesPerCall"/>.</param>
    /// <param name="stats">Where the frames and calls are counted (a spread job's channels: per direction), or null.</param>
    /// <param name="stopping">Ends the retries of a sender whose task stopped.</param>
    public ChannelSender(
        IChannelTransport transport,
        long epoch,
        TimeProvider? time = null,
        TimeSpan? maxBackoff = null,
        TimeSpan? retryLimit = null,
        int callsInFlight = DefaultCallsInFlight,
        int framesPerCall = DefaultFramesPerCall,
        ExchangeStats? stats = null,
        CancellationToken stopping = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epoch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(callsInFlight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(framesPerCall);
        _transport = transport;
        Epoch = epoch;
        _time = time ?? TimeProvider.System;
        _maxBackoff = maxBackoff ?? TimeSpan.FromSeconds(1);
        _retryLimit = retryLimit ?? DefaultRetryLimit;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_retryLimit.Ticks, nameof(retryLimit));
        CallsInFlight = callsInFlight;
        FramesPerCall = framesPerCall;
        _stopping = stopping;
        _stats = stats;
    }

    /// <summary>Gets the default time calls may fail in a row before a sender gives up: longer than Orleans takes to declare a
    /// silo dead with the short failure detection (about 2 s) and than a call's timeout on a loaded machine, short enough that a
    /// receiver that is gone ends the epoch even when nothing else notices.</summary>
    public static TimeSpan DefaultRetryLimit { get; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets the sender's epoch.</summary>
    public long Epoch { get; }

    /// <summary>Gets the most calls in flight at once.</summary>
    public int CallsInFlight { get; }

    /// <summary>Gets the most frames one call carries.</summary>
    public int FramesPerCall { get; }

    /// <summary>Gets the number of frames sent or waiting and not yet acknowledged (at most the receiver's credit).</summary>
    public int Unacknowledged
    {
        get
        {
            lock (_gate)
            {
                return (int)(_next - 1 - _ackedThrough);
            }
        }
    }

    /// <summary>Gets the most frames that were unacknowledged at once (tests check it against the receiver's capacity).</summary>
    public int MaxUnacknowledged { get; private set; }

    /// <summary>Gets the number of calls that failed and were sent again.</summary>
    public long Retries { get; private set; }

    /// <summary>Gets the number of calls made with frames (first attempts; <see cref="Retries"/> not counted).</summary>
    public long Calls { get; private set; }

    /// <summary>Gets the most frames one call carried.</summary>
    public int MaxFramesInACall { get; private set; }

    /// <summary>Gets the highest sequence the receiver acknowledged.</summary>
    public long AcknowledgedThrough
    {
        get
        {
            lock (_gate)
            {
                return _ackedThrough;
            }
        }
    }

    /// <summary>Sends a frame: waits for credit, gives it the next sequence number, and starts a call with it (and any frames
    /// waiting) unless <see cref="CallsInFlight"/> calls are in flight, in which case it goes with the next call.</summary>
    /// <exception cref="ChannelException">The receiver refused the channel (fenced sender, receiver without state) or is unreachable.</exception>
    public async ValueTask SendAsync(ChannelFrame frame, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(frame);
        while (true)
        {
            Task? wait = null;
            bool sent = false;
            List<Call>? starts = null;
            lock (_gate)
            {
                ThrowIfFaulted();
                if (_next <= _limit)
                {
                    frame.Epoch = Epoch;
                    frame.Sequence = _next;
                    if (_next - _ackedThrough > _window.Length)
                    {
                        Grow();
                    }

                    _window[_next & (_window.Length - 1)] = frame;
                    _next++;
                    _stats?.Frame(frame);
                    MaxUnacknowledged = Math.Max(MaxUnacknowledged, (int)(_next - 1 - _ackedThrough));
                    starts = StartCalls();
                    sent = true;
                }
                else if (_calls.Count > 0)
                {
                    // Calls in flight: their answers carry the credit.
                    _roomWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    wait = _roomWaiter.Task;
                }
            }

            if (sent)
            {
                if (starts is not null)
                {
                    Launch(starts);
                }

                return;
            }

            if (wait is not null)
            {
                await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // Everything is acknowledged and the receiver's buffer is full (its consumer is slow): ask, and wait for its answer.
                await AskForCreditAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Waits until the receiver holds every frame sent.</summary>
    /// <exception cref="ChannelException">The receiver refused the channel or is unreachable.</exception>
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                ThrowIfFaulted();
                if (_ackedThrough == _next - 1)
                {
                    return;
                }

                _flushWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _flushWaiter.Task;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task AskForCreditAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        long next;
        lock (_gate)
        {
            next = _next;
        }

        ChannelAck ack;
        try
        {
            ack = await _transport.WaitForCreditAsync(Epoch, next).ConfigureAwait(false);
        }
        catch (Exception error) when (error is not ChannelException and not OperationCanceledException)
        {
            if (await BackOffAsync(error, $"a request for credit after frame {next - 1}", cancellationToken).ConfigureAwait(false) is { } gaveUp)
            {
                Fail(gaveUp);
                throw gaveUp;
            }

            return;
        }

        lock (_gate)
        {
            Succeeded();
            Apply(ack);
            ThrowIfFaulted();
        }
    }

    /// <summary>Under the lock: starts calls with the waiting frames while fewer than <see cref="CallsInFlight"/> are in flight.</summary>
    private List<Call>? StartCalls()
    {
        List<Call>? starts = null;
        while (_calls.Count < CallsInFlight && _sentThrough < _next - 1)
        {
            long first = _sentThrough + 1;
            int count = (int)Math.Min(_next - first, FramesPerCall);
            var frames = new ChannelFrame[count];
            for (int i = 0; i < count; i++)
            {
                frames[i] = _window[(first + i) & (_window.Length - 1)]!;
            }

            var call = new Call(first, first + count - 1, frames);
            _calls.Enqueue(call);
            _sentThrough = call.Last;
            Calls++;
            _stats?.Call();
            MaxFramesInACall = Math.Max(MaxFramesInACall, count);
            (starts ??= []).Add(call);
        }

        return starts;
    }

    private void Launch(List<Call> starts)
    {
        foreach (var call in starts)
        {
            _ = RunCallAsync(call);
        }
    }

    /// <summary>Makes a call (again, after a failure and a back-off) until it is answered; then applies the answers in call order.</summary>
    private async Task RunCallAsync(Call call)
    {
        var frames = call.Frames;
        while (true)
        {
            ChannelAck ack = default;
            try
            {
                ack = await _transport.PushAsync(frames).ConfigureAwait(false);
            }
            catch (Exception error) when (error is not ChannelException)
            {
                // Lost before or after the receiver got it: send the frames again (copies it holds are dropped there).
                string what = call.First == call.Last ? $"frame {call.First}" : $"frames {call.First} to {call.Last}";
                if (await BackOffAsync(error, what, CancellationToken.None).ConfigureAwait(false) is { } gaveUp)
                {
                    Fail(gaveUp);
                    return;
                }

                lock (_gate)
                {
                    if (_fault is not null)
                    {
                        return;
                    }

                    Retries++;

                    // Frames an earlier call's answer acknowledged meanwhile (this call reached the receiver, its answer was lost)
                    // are not sent again: their columns went back to the pool. When all are, the call is settled as it stands.
                    long done = _ackedThrough - call.First + 1;
                    if (done >= call.Frames.Length)
                    {
                        ack = new ChannelAck(ChannelAckStatus.Accepted, Epoch, _ackedThrough, _limit);
                        frames = [];
                    }
                    else if (done > 0)
                    {
                        frames = call.Frames[(int)done..];
                    }
                }

                if (frames.Length > 0)
                {
                    continue;
                }
            }

            Answered(call, ack);
            return;
        }
    }

    /// <summary>A call was answered: applies the answers of the calls made so far that are answered, in order, and starts more calls.</summary>
    private void Answered(Call call, ChannelAck ack)
    {
        List<Call>? starts = null;
        TaskCompletionSource? room, flushed;
        lock (_gate)
        {
            call.Ack = ack;
            Succeeded();
            while (_fault is null && _calls.TryPeek(out var head) && head.Ack is { } answer)
            {
                _calls.Dequeue();
                Apply(answer);
                if (_fault is null && _ackedThrough < head.Last)
                {
                    // The receiver held these frames when it answered, so it acknowledges them; anything else breaks the protocol.
                    _fault = new ChannelException(_transport.Name, answer.Status,
                        $"The receiver of channel '{_transport.Name}' accepted frame {head.Last} of epoch {Epoch} but acknowledges only up to {answer.ReceivedThrough}; it lost frames it had accepted.");
                }
            }

            if (_fault is null)
            {
                starts = StartCalls();
            }

            (room, flushed) = Wakes();
        }

        if (starts is not null)
        {
            Launch(starts);
        }

        room?.TrySetResult();
        flushed?.TrySetResult();
    }

    private void Fail(ChannelException error)
    {
        TaskCompletionSource? room, flushed;
        lock (_gate)
        {
            _fault ??= error;
            (room, flushed) = Wakes();
        }

        room?.TrySetResult();
        flushed?.TrySetResult();
    }

    /// <summary>Under the lock: the waiters that can go on (room for a frame, everything acknowledged, or a fault to throw).</summary>
    private (TaskCompletionSource? Room, TaskCompletionSource? Flushed) Wakes()
    {
        TaskCompletionSource? room = null, flushed = null;
        if (_fault is not null || _next <= _limit || _calls.Count == 0)
        {
            (room, _roomWaiter) = (_roomWaiter, null);
        }

        if (_fault is not null || _ackedThrough == _next - 1)
        {
            (flushed, _flushWaiter) = (_flushWaiter, null);
        }

        return (room, flushed);
    }

    /// <summary>Under the lock: applies an answer (a refusal becomes the sender's fault); acknowledged frames give their columns back to the pool.</summary>
    private void Apply(ChannelAck ack)
    {
        switch (ack.Status)
        {
            case ChannelAckStatus.Accepted:
                break;
            case ChannelAckStatus.StaleEpoch:
                _fault ??= new ChannelException(_transport.Name, ack.Status,
                    $"Channel '{_transport.Name}' refused epoch {Epoch}: its receiver belongs to epoch {ack.Epoch}, a newer run of the job. This sender was fenced and stops.");
                return;
            case ChannelAckStatus.NotOpen:
                _fault ??= new ChannelException(_transport.Name, ack.Status,
                    $"The receiver of channel '{_transport.Name}' is not open for epoch {Epoch} (it is at epoch {ack.Epoch}): it lost its state, for example because its silo died. The job must roll back to its last checkpoint.");
                return;
            default:
                _fault ??= new ChannelException(_transport.Name, ack.Status,
                    $"The receiver of channel '{_transport.Name}' refused a frame beyond its credit ({ack.Limit}) in epoch {Epoch}.");
                return;
        }

        long through = Math.Min(ack.ReceivedThrough, _sentThrough);
        for (long s = _ackedThrough + 1; s <= through; s++)
        {
            ref var slot = ref _window[s & (_window.Length - 1)];
            slot?.Release(); // the receiver holds its own copy of the bytes: ours go back to the pool
            slot = null;
        }

        _ackedThrough = Math.Max(_ackedThrough, through);
        _limit = Math.Max(_limit, ack.Limit);
    }

    private void ThrowIfFaulted()
    {
        if (_fault is { } fault)
        {
            throw fault;
        }
    }

    private void Succeeded()
    {
        _failures = 0;
        _failingSince = 0;
    }

    /// <summary>After a failed call: the error to give up with when calls have failed in a row for the retry limit, else null after a wait.</summary>
    private async ValueTask<ChannelException?> BackOffAsync(Exception error, string what, CancellationToken cancellationToken)
    {
        TimeSpan delay;
        lock (_gate)
        {
            if (_fault is not null)
            {
                return _fault;
            }

            if (_failingSince == 0)
            {
                _failingSince = _time.GetTimestamp();
            }
            else if (_time.GetElapsedTime(_failingSince) is var failing && failing >= _retryLimit)
            {
                return new ChannelException(_transport.Name, ChannelAckStatus.Unreachable, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"The calls of channel '{_transport.Name}' (epoch {Epoch}) failed for {failing.TotalSeconds:F1} s in a row ({_failures + 1} failures; the last one, for {what}: {error.Message}). Its receiver is taken as lost (the retry limit is {_retryLimit.TotalSeconds:F1} s): the job must roll back to its last checkpoint."),
                    error);
            }

            // 1, 2, 4, ... ms up to the maximum: a failing silo is not flooded, a single lost call costs about a millisecond.
            int shift = Math.Min(_failures++, 20);
            delay = TimeSpan.FromTicks(Math.Min(TimeSpan.TicksPerMillisecond << shift, _maxBackoff.Ticks));
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping);
        try
        {
            await Task.Delay(delay, _time, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ChannelException(_transport.Name, ChannelAckStatus.Unreachable, $"The sender of channel '{_transport.Name}' (epoch {Epoch}) stopped while retrying {what}.", error);
        }

        return null;
    }

    private void Grow()
    {
        var larger = new ChannelFrame?[_window.Length * 2];
        for (long s = _ackedThrough + 1; s < _next; s++)
        {
            larger[s & (larger.Length - 1)] = _window[s & (_window.Length - 1)];
        }

        _window = larger;
    }

    /// <summary>One call: frames <see cref="First"/> to <see cref="Last"/>, and its answer once it came.</summary>
    private sealed class Call(long first, long last, ChannelFrame[] frames)
    {
        public long First { get; } = first;

        public long Last { get; } = last;

        public ChannelFrame[] Frames { get; } = frames;

        public ChannelAck? Ack { get; set; }
    }
}
