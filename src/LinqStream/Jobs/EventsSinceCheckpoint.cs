namespace LinqStream;

/// <summary>
/// <see cref="JobOptions.CheckpointEveryEvents"/> for a job whose sources are read on tasks of their own (a parallel part's source
/// tasks, a sink task): each task tells, after each of its steps (not per event, on its own thread), how many events its sources
/// have read so far; once all of them together have read <c>every</c> more than when the counter was last armed, it calls its
/// signal, once, until it is armed again (the job arms it when it takes a checkpoint). The job's loop cannot find this out by
/// itself: at parallelism above 1 it waits on a merge that may give it nothing for a long time, and a job with a sink per task
/// has no merge at all. One implementation for <see cref="QueryJob{T}"/> and <see cref="ParallelSinkJob{T}"/>.
/// </summary>
internal sealed class EventsSinceCheckpoint
{
    private readonly long _every;
    private readonly Action _due;
    private readonly Lock _gate = new();
    private readonly Dictionary<long, long> _readByTask = []; // by (part, task): the task's last report
    private long _read;
    private long _dueAt = long.MaxValue;

    /// <param name="every">How many events, read by all the tasks together, make a checkpoint due (at least 1).</param>
    /// <param name="due">Called once per arming, on the thread of the task whose report crossed the mark.</param>
    public EventsSinceCheckpoint(long every, Action due)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(every, 1);
        _every = every;
        _due = due;
    }

    /// <summary>Gets the events read by all the tasks together, as far as they have reported.</summary>
    public long Read
    {
        get
        {
            lock (_gate)
            {
                return _read;
            }
        }
    }

    /// <summary>From now on, signals once when the tasks have read <c>every</c> more events than <paramref name="readAtCheckpoint"/>.</summary>
    public void Arm(long readAtCheckpoint) => Volatile.Write(ref _dueAt, readAtCheckpoint > long.MaxValue - _every ? long.MaxValue : readAtCheckpoint + _every);

    /// <summary>Task <paramref name="task"/> of part <paramref name="part"/> has read <paramref name="read"/> events so far (after one of its steps).</summary>
    public void Stepped(int part, int task, long read)
    {
        long total;
        lock (_gate)
        {
            ref long last = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_readByTask, ((long)part << 32) | (uint)task, out _);
            _read += read - last;
            last = read;
            total = _read;
        }

        // Once per arming: whoever moves the mark to "never" signals.
        long dueAt = Volatile.Read(ref _dueAt);
        if (dueAt != long.MaxValue && total >= dueAt && Interlocked.CompareExchange(ref _dueAt, long.MaxValue, dueAt) == dueAt)
        {
            _due();
        }
    }
}
