using System.Runtime.InteropServices;
using LinqStream.Runtime;

namespace LinqStream.Parallel;

/// <summary>What one message on a <see cref="SpscChannel{T}"/> carries.</summary>
internal enum ChannelMessage : byte
{
    /// <summary>A batch of events ordered by start.</summary>
    Batch,

    /// <summary>A watermark: no later event on this channel starts before it.</summary>
    Watermark,

    /// <summary>The producer is done (after a watermark of +infinity).</summary>
    Completed,

    /// <summary>The producer failed; the error travels in order with the data.</summary>
    Error,

    /// <summary>A checkpoint barrier (its number in <c>Value</c>): everything before it is in the checkpoint, nothing after it.</summary>
    Barrier,
}

/// <summary>
/// A bounded single-producer/single-consumer ring of messages between two tasks: batches, watermarks, checkpoint barriers,
/// completion and errors, in order. Each slot owns a batch that the producer fills in place and the consumer swaps out (no copy, no allocation).
/// </summary>
/// <remarks>
/// Bounded: a producer that finds the ring full waits, which is how a slow consumer holds back its sources (backpressure).
/// Waiting spins briefly (unless <see cref="SpinBeforeBlocking"/> is off), then blocks on an event; the other side signals only when someone waits, so a busy channel costs
/// two volatile reads per message and no lock. A sleeping side is woken with hysteresis: the consumer by any message that is
/// not a batch (a watermark, barrier, completion or error) or when the ring is half full, the producer when half of the ring
/// is free, so a wake-up serves several messages (a batch followed by nothing for 100 ms is seen at the consumer's backstop
/// time-out; every producer here follows its batches with a watermark at the end of a step). The protocol (kinds, order,
/// bound) is what a channel between machines keeps.
/// </remarks>
internal sealed class SpscChannel<T>
{
    private readonly Slot[] _slots;
    private readonly int _mask;
    private readonly int _batchSize;
    private readonly int _wakeDepth; // a batch wakes a waiting consumer only at this depth; a release wakes the producer at this much free space
    private readonly object _gate = new(); // Monitor.Wait/Pulse need an object, not a System.Threading.Lock
    private ChannelPositions _positions;
    private int _producerWaiting;
    private int _consumerWaiting;
    private readonly ConsumerSignal? _consumerSignal;
    private TaskCompletionSource? _messageWaiter; // a consumer that waits outside the channel (WaitForMessageAsync)
    private volatile bool _closed;

    /// <param name="capacity">The number of messages in flight (rounded up to a power of two).</param>
    /// <param name="batchSize">The capacity of each slot's batch.</param>
    /// <param name="consumerSignal">Set when one consumer reads several channels: a publish wakes it through this signal.</param>
    public SpscChannel(int capacity, int batchSize, ConsumerSignal? consumerSignal = null)
    {
        _consumerSignal = consumerSignal;
        _batchSize = batchSize;
        int size = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(2, capacity));
        _slots = new Slot[size];
        for (int i = 0; i < size; i++)
        {
            _slots[i] = new Slot();
        }

        _mask = size - 1;
        _wakeDepth = Math.Max(1, size / 2);
    }

    /// <summary>
    /// Gets or sets a value indicating whether a side that finds the ring empty (consumer) or full (producer) spins briefly before it
    /// blocks. Set before the channel is used; <see cref="ChannelWaits.ShouldSpin"/> decides it for a run.
    /// </summary>
    public bool SpinBeforeBlocking { get; set; } = true;

    /// <summary>Gets the number of messages the ring holds at most.</summary>
    public int Capacity => _slots.Length;

    /// <summary>Gets a value indicating whether the channel was closed (the query stopped).</summary>
    public bool IsClosed => _closed;

    /// <summary>Gets the number of messages waiting now (diagnostics; racy by nature).</summary>
    public int Depth => (int)(Volatile.Read(ref _positions.Tail) - Volatile.Read(ref _positions.Head));

    // ---- producer side ----

    /// <summary>Waits for a free slot and returns its empty batch to fill; null when the channel was closed.</summary>
    /// <remarks>
    /// A slot's batch is made the first time the producer fills that slot, on the producer's thread: a run's channels hold
    /// megabytes of batches when full (q5 at P = 2: 48 batches of 2,048 events), and allocating (and faulting in) all of them
    /// in the run's constructor kept the query's thread alone on one core for milliseconds before any task could start.
    /// </remarks>
    public EventBatch<T>? BeginBatch() => WaitForSpace() ? _slots[_positions.Tail & _mask].BatchToFill(_batchSize) : null;

    /// <summary>Publishes the batch returned by <see cref="BeginBatch"/>.</summary>
    public void PublishBatch() => Publish(ChannelMessage.Batch, 0, null);

    /// <summary>Hands a whole batch over by swapping its columns into a free slot (the caller keeps and returns its batch object).</summary>
    public bool SendBatch(EventBatch<T> batch)
    {
        var target = BeginBatch();
        if (target is null)
        {
            return false;
        }

        MoveInto(batch, target);
        PublishBatch();
        return true;
    }

    /// <summary>Gets a value indicating whether a message can be sent now without waiting (producer side).</summary>
    public bool HasSpace => _positions.Tail - Volatile.Read(ref _positions.Head) < _slots.Length;

    /// <summary>Waits until a message can be sent, the channel is closed, or <paramref name="timeoutMs"/> passed (one bounded wait, woken
    /// as a blocked producer is: when half of the ring is free); true when there is room (producer side).</summary>
    public bool WaitForSpace(int timeoutMs)
    {
        if (HasSpace || _closed)
        {
            return HasSpace;
        }

        lock (_gate)
        {
            Interlocked.Exchange(ref _producerWaiting, 1);
            if (!HasSpace && !_closed)
            {
                Monitor.Wait(_gate, timeoutMs);
            }

            Volatile.Write(ref _producerWaiting, 0);
        }

        return HasSpace;
    }

    public bool SendWatermark(long watermark) => WaitForSpace() && Publish(ChannelMessage.Watermark, watermark, null);

    public bool SendCompleted() => WaitForSpace() && Publish(ChannelMessage.Completed, 0, null);

    public bool SendError(Exception error) => WaitForSpace() && Publish(ChannelMessage.Error, 0, error);

    public bool SendBarrier(long id) => WaitForSpace() && Publish(ChannelMessage.Barrier, id, null);

    // ---- consumer side ----

    /// <summary>Waits for the next message and returns its slot (valid until <see cref="Release"/>); null when the channel was closed.</summary>
    public Slot? Peek()
    {
        long head = _positions.Head;
        if (Volatile.Read(ref _positions.Tail) == head && !WaitForMessage(head))
        {
            return null;
        }

        return _slots[head & _mask];
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for the next message and returns its slot (valid until <see cref="Release"/>); null
    /// when none came in time or the channel was closed (<see cref="IsClosed"/> tells which). For a consumer that holds data back
    /// for a bounded time (a cross-silo pump filling a frame): a lone batch does not wake it before the time is up (the ring's
    /// hysteresis), a watermark or anything else does.
    /// </summary>
    public Slot? Peek(TimeSpan timeout)
    {
        long head = _positions.Head;
        if (Volatile.Read(ref _positions.Tail) == head && !WaitForMessage(head, System.Diagnostics.Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * System.Diagnostics.Stopwatch.Frequency)))
        {
            return null;
        }

        return _slots[head & _mask];
    }

    /// <summary>Gets the next message if one is there now, without waiting.</summary>
    public Slot? TryPeek()
    {
        long head = _positions.Head;
        return Volatile.Read(ref _positions.Tail) == head ? null : _slots[head & _mask];
    }

    /// <summary>
    /// Completes when a message is there or the channel was closed, without holding a thread: for a consumer that has other
    /// things to wait for (the job's loop, which must also notice a checkpoint that is due while every channel is quiet).
    /// </summary>
    public Task WaitForMessageAsync()
    {
        long head = _positions.Head;
        if (Volatile.Read(ref _positions.Tail) != head || _closed)
        {
            return Task.CompletedTask;
        }

        var waiter = Volatile.Read(ref _messageWaiter) ?? new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Announce (a full fence), then look again: the producer publishes, then looks for the announcement (behind a full fence too).
        Interlocked.Exchange(ref _messageWaiter, waiter);
        if (Volatile.Read(ref _positions.Tail) != head || _closed)
        {
            CompleteMessageWaiter();
        }

        return waiter.Task;
    }

    /// <summary>
    /// Frees the slot returned by <see cref="Peek()"/> (its batch is emptied for the producer). Releasing the producer's completion,
    /// the last message the channel carries, gives every slot's batch back to <see cref="SharedBatches{T}"/> for the next run.
    /// </summary>
    public void Release()
    {
        var released = _slots[_positions.Head & _mask];
        bool last = released.Kind == ChannelMessage.Completed;
        released.Clear();
        if (last)
        {
            // The producer sent nothing after its completion and the consumer reads nothing after it: no slot is in use.
            foreach (var slot in _slots)
            {
                if (slot.TakeBatch() is { } batch && batch.Capacity == _batchSize)
                {
                    SharedBatches<T>.GiveBack(batch);
                }
            }
        }

        long head = _positions.Head + 1;
        Volatile.Write(ref _positions.Head, head);
        Interlocked.MemoryBarrier();
        // A waiting producer found the ring full: wake it when half of it is free, not at every slot (which would put it back
        // to sleep after one message, a wake-up per message while the consumer is the slower side).
        if (Volatile.Read(ref _producerWaiting) != 0 && Volatile.Read(ref _positions.Tail) - head <= _slots.Length - _wakeDepth)
        {
            Wake();
        }
    }

    /// <summary>Moves the columns of a slot's batch into <paramref name="target"/> (an empty batch of the same capacity).</summary>
    public static void SwapColumns(EventBatch<T> source, EventBatch<T> target)
    {
        (source.Start, target.Start) = (target.Start, source.Start);
        (source.End, target.End) = (target.End, source.End);
        (source.Payload, target.Payload) = (target.Payload, source.Payload);
        (source.Absent, target.Absent) = (target.Absent, source.Absent);
        (source.Count, target.Count) = (target.Count, source.Count);
    }

    /// <summary>Moves the events of <paramref name="source"/> into <paramref name="target"/> (an empty batch): by swapping columns when the capacities match, else by copying.</summary>
    public static void MoveInto(EventBatch<T> source, EventBatch<T> target)
    {
        if (source.Capacity == target.Capacity)
        {
            SwapColumns(source, target);
            return;
        }

        for (int i = 0; i < source.Count; i++)
        {
            target.Add(source.Start[i], source.End[i], source.Payload[i]);
            if (source.IsAbsent(i))
            {
                target.SetAbsent(i);
            }
        }
    }

    /// <summary>Closes the channel: both sides stop waiting and every later call fails.</summary>
    public void Close()
    {
        _closed = true;
        Wake();
        _consumerSignal?.Wake();
        CompleteMessageWaiter();
    }

    private bool Publish(ChannelMessage kind, long value, Exception? error)
    {
        var slot = _slots[_positions.Tail & _mask];
        slot.Kind = kind;
        slot.Value = value;
        slot.Error = error;
        long tail = _positions.Tail + 1;
        Volatile.Write(ref _positions.Tail, tail);
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _messageWaiter) is not null)
        {
            // An asynchronous waiter (a job's loop, a grain) has no time-out to fall back on: every message completes it.
            CompleteMessageWaiter();
        }

        if (kind == ChannelMessage.Batch && tail - Volatile.Read(ref _positions.Head) < _wakeDepth)
        {
            // A batch alone does not wake a blocked consumer thread until the ring is half full: what follows it (a watermark,
            // a barrier, completion, an error, or more batches) will, so the consumer wakes once for several messages instead
            // of once per batch (a sleep and a wake-up cost microseconds on both sides: more than a batch of partials to
            // merge). A thread that waits has a 100 ms backstop.
            return true;
        }

        if (Volatile.Read(ref _consumerWaiting) != 0)
        {
            Wake();
        }

        if (_consumerSignal is { } signal && Volatile.Read(ref signal.Waiting) != 0)
        {
            signal.Wake();
        }

        return true;
    }

    private void CompleteMessageWaiter() => Interlocked.Exchange(ref _messageWaiter, null)?.TrySetResult();

    private bool WaitForSpace()
    {
        long tail = _positions.Tail;
        if (tail - Volatile.Read(ref _positions.Head) < _slots.Length)
        {
            return !_closed;
        }

        var spinner = default(SpinWait);
        while (true)
        {
            if (_closed)
            {
                return false;
            }

            if (tail - Volatile.Read(ref _positions.Head) < _slots.Length)
            {
                return true;
            }

            if (ChannelWaits.TrySpin(ref spinner, SpinBeforeBlocking))
            {
                continue;
            }

            lock (_gate)
            {
                // Announce, then look again: the consumer frees a slot, then looks for the announcement (both behind full fences).
                Interlocked.Exchange(ref _producerWaiting, 1);
                if (tail - Volatile.Read(ref _positions.Head) >= _slots.Length && !_closed)
                {
                    Monitor.Wait(_gate, 100);
                }

                Volatile.Write(ref _producerWaiting, 0);
            }
        }
    }

    private bool WaitForMessage(long head, long deadline = long.MaxValue)
    {
        var spinner = default(SpinWait);
        while (true)
        {
            if (Volatile.Read(ref _positions.Tail) != head)
            {
                return true;
            }

            if (_closed)
            {
                return false;
            }

            if (ChannelWaits.TrySpin(ref spinner, SpinBeforeBlocking))
            {
                continue;
            }

            int wait = 100;
            if (deadline != long.MaxValue)
            {
                long left = deadline - System.Diagnostics.Stopwatch.GetTimestamp();
                if (left <= 0)
                {
                    return false;
                }

                wait = (int)Math.Clamp(left * 1000 / System.Diagnostics.Stopwatch.Frequency, 1, 100);
            }

            lock (_gate)
            {
                Interlocked.Exchange(ref _consumerWaiting, 1);
                if (Volatile.Read(ref _positions.Tail) == head && !_closed)
                {
                    Monitor.Wait(_gate, wait);
                }

                Volatile.Write(ref _consumerWaiting, 0);
            }
        }
    }

    private void Wake()
    {
        lock (_gate)
        {
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>One message: a batch (owned by the slot), or a watermark, completion or error.</summary>
    internal sealed class Slot
    {
        public ChannelMessage Kind;
        public long Value;
        public Exception? Error;

        private EventBatch<T>? _batch;

        /// <summary>Gets the batch of a batch message (the producer made it the first time it filled this slot; read it only from a batch message).</summary>
        public EventBatch<T> Batch => _batch!;

        /// <summary>Gets the slot's batch to fill, taken now the first time (producer side; one kept from an earlier run if there is one).</summary>
        public EventBatch<T> BatchToFill(int capacity) => _batch ??= SharedBatches<T>.Take(capacity);

        /// <summary>Takes the slot's batch out of it (the channel's end: the slot is not used again).</summary>
        public EventBatch<T>? TakeBatch()
        {
            var batch = _batch;
            _batch = null;
            return batch;
        }

        /// <summary>Empties the slot's batch, if it has one (consumer side, at release).</summary>
        public void Clear()
        {
            _batch?.Reset();
            Error = null;
        }
    }
}

/// <summary>Whether the sides of a run's channels spin before they block.</summary>
internal static class ChannelWaits
{
    /// <summary>
    /// Spinning is worth it only while the other side runs on another core: then the message comes within the spin and the
    /// sleep and wake-up (microseconds on both sides) are saved. When a run has more threads than the machine has cores, the
    /// side that would be awaited is often not running at all, and a spin only takes time from a thread that has work (on 2
    /// cores q5 at P = 2 runs 4 such threads: benchmarks/RESULTS.md, "Session 21"). So spin only when the run's threads fit on the cores.
    /// </summary>
    /// <param name="threads">The run's threads that work per event: its source tasks and its tasks (unless chained onto the source tasks);
    /// not the query's thread, which takes results and mostly waits.</param>
    /// <param name="forced">The query's <c>SpinBeforeBlocking</c>, when set.</param>
    public static bool ShouldSpin(int threads, bool? forced) => forced ?? threads <= Environment.ProcessorCount;

    /// <summary>
    /// One step of every channel wait's "spin briefly, then block": spins once and returns true while <paramref name="spin"/> is on
    /// and the spin has not reached the point where it would yield the core; false when the caller should block now.
    /// </summary>
    public static bool TrySpin(ref SpinWait spinner, bool spin)
    {
        if (!spin || spinner.NextSpinWillYield)
        {
            return false;
        }

        spinner.SpinOnce(-1);
        return true;
    }
}

/// <summary>
/// Wakes a consumer that reads several channels (a task fed by several source tasks) when any of them gets a message: it
/// announces <see cref="Waiting"/>, looks at every channel again, then waits; a producer signals only when it is announced.
/// </summary>
internal sealed class ConsumerSignal
{
    private readonly object _gate = new(); // Monitor.Wait/Pulse need an object, not a System.Threading.Lock

    /// <summary>1 while the consumer is about to wait or waiting.</summary>
    public int Waiting;

    /// <summary>Waits until a producer signals or <paramref name="timeoutMs"/> passes, unless <paramref name="hasMessage"/> is already true.</summary>
    public void Wait(Func<bool> hasMessage, int timeoutMs)
    {
        lock (_gate)
        {
            Interlocked.Exchange(ref Waiting, 1);
            if (!hasMessage())
            {
                Monitor.Wait(_gate, timeoutMs);
            }

            Volatile.Write(ref Waiting, 0);
        }
    }

    public void Wake()
    {
        lock (_gate)
        {
            Monitor.PulseAll(_gate);
        }
    }
}

/// <summary>Head and tail on their own cache lines: the producer writes one, the consumer the other.</summary>
[StructLayout(LayoutKind.Explicit, Size = 192)]
internal struct ChannelPositions
{
    [FieldOffset(64)]
    public long Head;

    [FieldOffset(128)]
    public long Tail;
}
