using LinqStream.Runtime;
using LinqStream.Temporal;

namespace LinqStream.Parallel;

/// <summary>
/// The receiving end of the tasks' forward exchanges: merges their outputs back into one stream ordered by start, ties
/// taken from the lower task first, and forwards the minimum of their watermarks. It is stepped by the query's runner
/// like a source, on the thread that runs the rest of the plan and the sink.
/// </summary>
/// <remarks>
/// Every task's output is ordered by start, and a task owns a contiguous range of key groups, which follow stable key-hash
/// order; a window operator emits one window's keys in that same order. So taking ties from the lower task rebuilds exactly
/// the order parallelism 1 gives (docs/semantics.md §8). An event with start <c>s</c> from task <c>i</c> may go out once every
/// other task <c>j</c> either has its next event waiting or has promised (by watermark) nothing that would come first:
/// <c>W_j &gt; s</c>, or <c>W_j = s</c> with <c>j &gt; i</c>.
/// </remarks>
internal sealed class OrderRestoringMerge<T> : SourceDriver
{
    private readonly SpscChannel<T>[] _channels;
    private readonly SpscChannel<T>.Slot?[] _heads;
    private readonly int[] _positions;
    private readonly long[] _watermarks;
    private readonly bool[] _done;
    private readonly IStreamObserver<T> _downstream;
    private readonly BatchPool<T> _pool;
    private readonly IParallelRun _run;
    private readonly bool[] _atBarrier;
    private EventBatch<T>? _output;
    private bool _aligned;
    private long _firstBarrierAt;
    private bool _waitOutside;
    private int _waitingOn = -1;

    public OrderRestoringMerge(SpscChannel<T>[] channels, IStreamObserver<T> downstream, QueryContext context, IParallelRun run)
    {
        _channels = channels;
        _heads = new SpscChannel<T>.Slot?[channels.Length];
        _positions = new int[channels.Length];
        _watermarks = new long[channels.Length];
        Array.Fill(_watermarks, Ticks.MinusInfinity);
        _done = new bool[channels.Length];
        _atBarrier = new bool[channels.Length];
        _downstream = downstream;
        _pool = context.Pool<T>();
        _run = run;
    }

    public override bool CanReplay => _run.CanReplay;

    public override string SourceName => _run.SourceNames;

    public override long EventsRead => _run.EventsRead;

    public override long MaxEventTime => _run.MaxEventTime;

    public override long LateEvents => _run.LateEvents;

    public override bool IsLive => _run.IsLive;

    // The merge is not written itself: a checkpoint is taken when it is aligned, so it holds nothing (see IParallelCheckpoint).
    public override void WriteState(BinaryWriter writer) => throw new InvalidOperationException("The parallel merge holds no state at an aligned barrier.");

    public override void ReadState(BinaryReader reader) => throw new InvalidOperationException("The parallel merge holds no state at an aligned barrier.");

    /// <summary>Gets a value indicating whether every task's barrier is here and everything before them went downstream; the
    /// merge takes nothing more until <see cref="ReleaseBarrier"/>.</summary>
    public bool IsAligned => _aligned;

    /// <summary>Gets the time from the first task's barrier to the last one's, for the last aligned barrier.</summary>
    public TimeSpan LastAlignment { get; private set; }

    /// <summary>Gets what is told (on the merge's thread) when a task's barrier is taken: the task's index. Once per task and barrier.</summary>
    public Action<int>? BarrierTaken { get; init; }

    /// <summary>Lets every task's output after the barrier through (after the job wrote its checkpoint).</summary>
    public void ReleaseBarrier()
    {
        if (!_aligned)
        {
            return;
        }

        for (int i = 0; i < _channels.Length; i++)
        {
            if (_atBarrier[i])
            {
                _atBarrier[i] = false;
                _channels[i].Release();
            }
        }

        _aligned = false;
    }

    public override void Start()
    {
        // Live tasks may go quiet for any time: the merge then hands the wait to the runner (WaitForDataAsync), whose loop also
        // wakes for a checkpoint that is due or asked for, so the barrier can be sent while no data flows. A replay run (stepped by
        // QueryRunner.Run, which does not wait) blocks here instead.
        _waitOutside = _run.IsLive;
        _run.Start();
    }

    /// <summary>Completes when the task the merge must hear from next has a message (live runs; see <see cref="Start"/>).</summary>
    public override Task WaitForDataAsync(CancellationToken cancellationToken)
    {
        int waitingOn = _waitingOn;
        _waitingOn = -1;
        return waitingOn < 0 || IsCompleted ? Task.CompletedTask : _channels[waitingOn].WaitForMessageAsync();
    }

    public override void Dispose()
    {
        base.Dispose();
        _run.Stop();
    }

    /// <summary>Pushes events until a batch, a watermark or the end went downstream; waits on the one task it needs.</summary>
    public override bool TryStep()
    {
        _waitingOn = -1;
        try
        {
            return !IsCompleted && Step();
        }
        catch
        {
            IsCompleted = true;
            _run.Stop();
            throw;
        }
    }

    private bool Step()
    {
        while (true)
        {
            if (_aligned)
            {
                return false; // waiting for the job to write the checkpoint
            }

            int best = -1;
            long bestStart = long.MaxValue;
            for (int i = 0; i < _channels.Length; i++)
            {
                if (HasEvent(i, wait: false) is { } start && start < bestStart)
                {
                    best = i;
                    bestStart = start;
                }

                if (IsCompleted)
                {
                    return true; // an error went downstream
                }
            }

            if (AdvanceWatermark())
            {
                return true;
            }

            if (best < 0 && Aligned())
            {
                Flush();
                _aligned = true;
                LastAlignment = System.Diagnostics.Stopwatch.GetElapsedTime(_firstBarrierAt);
                return true;
            }

            int blocker = best < 0 ? LowestOpenChannel() : Blocker(best, bestStart);
            if (blocker >= 0)
            {
                // Someone we must hear from first: hand what we have downstream, then wait on that task alone.
                if (Flush())
                {
                    return true;
                }

                if (_waitOutside)
                {
                    if (!ReadSoon(blocker))
                    {
                        if (_channels[blocker].IsClosed)
                        {
                            IsCompleted = true; // closed: the query stopped
                        }
                        else
                        {
                            _waitingOn = blocker; // nothing for now: the runner waits for it (and for the job's own wake-ups)
                        }

                        return false;
                    }

                    continue;
                }

                if (!ReadOne(blocker, wait: true))
                {
                    IsCompleted = true; // closed: the query stopped
                    return false;
                }

                continue;
            }

            if (best < 0)
            {
                Flush();
                IsCompleted = true;
                _downstream.OnCompleted();
                return true;
            }

            if (TakeRun(best))
            {
                return true;
            }
        }
    }

    /// <summary>Moves events of task <paramref name="i"/> to the output while none can come before them; true when a batch went out.</summary>
    private bool TakeRun(int i)
    {
        var slot = _heads[i]!;
        var batch = slot.Batch;
        int pos = _positions[i];
        long limit = NextOtherStart(i);
        var output = _output ??= _pool.Rent();
        while (pos < batch.Count)
        {
            if (batch.IsAbsent(pos))
            {
                pos++;
                continue;
            }

            long start = batch.Start[pos];
            if (start > limit || (start == limit && !LowerWins(i)))
            {
                break;
            }

            output.Add(start, batch.End[pos], batch.Payload[pos]);
            pos++;
            if (output.IsFull)
            {
                _positions[i] = pos;
                _output = null;
                _downstream.OnBatch(output);
                return true;
            }
        }

        _positions[i] = pos;
        return false;

        // Ties at 'limit' go to task i only when every task tied with it is higher.
        bool LowerWins(int task)
        {
            for (int j = 0; j < task; j++)
            {
                if (_heads[j] is not null && CurrentStart(j) == limit)
                {
                    return false;
                }

                if (_heads[j] is null && !_done[j] && !_atBarrier[j] && _watermarks[j] <= limit)
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>The earliest start another task may still send: its waiting event, else its watermark.</summary>
    private long NextOtherStart(int i)
    {
        long limit = long.MaxValue;
        for (int j = 0; j < _channels.Length; j++)
        {
            if (j == i || (_done[j] || _atBarrier[j]) && _heads[j] is null)
            {
                continue;
            }

            long next = _heads[j] is not null ? CurrentStart(j) : _watermarks[j];
            limit = Math.Min(limit, next);
        }

        return limit;
    }

    private long CurrentStart(int j) => _heads[j]!.Batch.Start[_positions[j]];

    /// <summary>A task with no event waiting that could still send one before (start, i); -1 when none.</summary>
    private int Blocker(int i, long start)
    {
        for (int j = 0; j < _channels.Length; j++)
        {
            if (j == i || _heads[j] is not null || _done[j] || _atBarrier[j])
            {
                continue;
            }

            if (_watermarks[j] < start || (_watermarks[j] == start && j < i))
            {
                return j;
            }
        }

        return -1;
    }

    /// <summary>Whether every task that has not ended has its barrier here (and at least one has).</summary>
    private bool Aligned()
    {
        bool any = false;
        for (int j = 0; j < _channels.Length; j++)
        {
            if (_atBarrier[j])
            {
                any = true;
            }
            else if (!_done[j] || _heads[j] is not null)
            {
                return false;
            }
        }

        return any;
    }

    private int LowestOpenChannel()
    {
        int lowest = -1;
        for (int j = 0; j < _channels.Length; j++)
        {
            if (!_done[j] && !_atBarrier[j] && (lowest < 0 || _watermarks[j] < _watermarks[lowest]))
            {
                lowest = j;
            }
        }

        return lowest;
    }

    /// <summary>The start of task <paramref name="i"/>'s next present event, reading its channel without waiting; null when none is there.</summary>
    private long? HasEvent(int i, bool wait)
    {
        while (true)
        {
            if (_heads[i] is { } slot)
            {
                var batch = slot.Batch;
                int pos = _positions[i];
                while (pos < batch.Count && batch.IsAbsent(pos))
                {
                    pos++;
                }

                _positions[i] = pos;
                if (pos < batch.Count)
                {
                    return batch.Start[pos];
                }

                _heads[i] = null;
                _channels[i].Release();
            }

            if (_done[i] || _atBarrier[i] || !ReadOne(i, wait) || IsCompleted)
            {
                return null;
            }

            if (_heads[i] is null)
            {
                return null; // a watermark: let the caller look again
            }
        }
    }

    /// <summary>Takes one message of task <paramref name="i"/>, spinning briefly (as the channel does before it blocks, when it does) when none is there yet.</summary>
    private bool ReadSoon(int i)
    {
        var spinner = default(SpinWait);
        while (!ReadOne(i, wait: false))
        {
            if (_channels[i].IsClosed || !ChannelWaits.TrySpin(ref spinner, _channels[i].SpinBeforeBlocking))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Takes one message of task <paramref name="i"/>: a batch becomes its head; false when nothing came.</summary>
    private bool ReadOne(int i, bool wait)
    {
        var slot = wait ? _channels[i].Peek() : _channels[i].TryPeek();
        if (slot is null)
        {
            return false;
        }

        switch (slot.Kind)
        {
            case ChannelMessage.Batch:
                _heads[i] = slot;
                _positions[i] = 0;
                return true;
            case ChannelMessage.Watermark:
                _watermarks[i] = Math.Max(_watermarks[i], slot.Value);
                break;
            case ChannelMessage.Completed:
                _watermarks[i] = Ticks.Infinity;
                _done[i] = true;
                break;
            case ChannelMessage.Barrier:
                // Aligned barriers: take nothing more from this task (the barrier stays in its slot) until every task's is here.
                if (!_atBarrier.Contains(true))
                {
                    _firstBarrierAt = System.Diagnostics.Stopwatch.GetTimestamp();
                }

                _atBarrier[i] = true;
                BarrierTaken?.Invoke(i);
                return true;
            default:
                var error = slot.Error!;
                _channels[i].Release();
                Flush();
                IsCompleted = true;
                _downstream.OnError(error);
                _run.Stop();
                return true;
        }

        _channels[i].Release();
        return true;
    }

    /// <summary>Sends the minimum of the tasks' watermarks when it moved; true when one went out.</summary>
    private bool AdvanceWatermark()
    {
        long min = Ticks.Infinity;
        foreach (long w in _watermarks)
        {
            min = Math.Min(min, w);
        }

        if (min <= Watermark)
        {
            return false;
        }

        Flush();
        Watermark = min;
        _downstream.OnWatermark(min);
        return true;
    }

    private bool Flush()
    {
        if (_output is null || _output.Count == 0)
        {
            return false;
        }

        var output = _output;
        _output = null;
        _downstream.OnBatch(output);
        return true;
    }
}

/// <summary>The threads of one parallel part of a query, as the merge that feeds the rest of it sees them.</summary>
internal interface IParallelRun
{
    /// <summary>Gets a value indicating whether every source of the run replays from a checkpointed position.</summary>
    bool CanReplay { get; }

    /// <summary>Gets the names of the run's sources (what a job names when one cannot replay).</summary>
    string SourceNames { get; }

    long EventsRead { get; }

    long LateEvents { get; }

    long MaxEventTime { get; }

    bool IsLive { get; }

    void Start();

    void Stop();

    /// <summary>Waits for every thread of the run to end (after <see cref="Stop"/> or completion); false when one is still running after <paramref name="timeout"/>.</summary>
    bool Join(TimeSpan timeout);
}
