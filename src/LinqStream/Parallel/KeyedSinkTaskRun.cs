namespace LinqStream.Parallel;

/// <summary>
/// A split keyed aggregate whose tasks each send their output to a sink of their own (no merge): what a keyed
/// <see cref="ParallelSinkJob{T}"/> drives (docs/parallelism.md, "One sink per task").
/// </summary>
/// <typeparam name="TResult">The aggregate's results.</typeparam>
internal interface ITaskOutputs<TResult> : IParallelRun
{
    /// <summary>Gets each task's output channel: its results, watermarks, checkpoint barriers, completion or error, in order.</summary>
    IReadOnlyList<SpscChannel<TResult>> Outputs { get; }

    /// <summary>Gets the checkpoint name of the aggregate the tasks run (as at parallelism 1).</summary>
    string AggregateName { get; }

    /// <summary>Gets the checkpoint names of the parts below the aggregate, as parallelism 1 lists them.</summary>
    IReadOnlyList<string> SourcePartNames { get; }

    /// <summary>Gets the number of source tasks.</summary>
    int SourceTasks { get; }

    /// <summary>Gets or sets what source task s calls after each step with the events it has read (set before <see cref="IParallelRun.Start"/>).</summary>
    Action<int, long>? SourceStepped { get; set; }

    /// <summary>Gets the late events counted by the source tasks' ingress (one count per source task).</summary>
    IEnumerable<Runtime.Ingress.LateEventCounts> LateEventCounts { get; }

    /// <summary>Asks every source task for barrier <paramref name="id"/>; each sends it between two of its steps.</summary>
    void RequestBarrier(long id);

    /// <summary>Gets when barrier <paramref name="id"/> passed each point of the run (its alignment at the tasks), or null when it is not the last one asked for.</summary>
    BarrierTimeline? Timeline(long id);

    /// <summary>The state at the barrier, once every task has passed it on into its output channel (waits for the tasks' key groups).</summary>
    (byte[] Aggregate, byte[][] Sources) StateAtTaskBarriers();

    /// <summary>Loads a checkpoint's state into the fresh tasks and source tasks, before anything runs.</summary>
    void Restore(byte[] aggregate, IReadOnlyList<byte[]> sources);
}

/// <summary>
/// Keyed task <c>t</c>'s sink in a keyed <see cref="ParallelSinkJob{T}"/>: on its own thread, takes the task's output channel in
/// order and writes each batch's results to the task's sink. At checkpoint barrier n (which the task passed on after it wrote
/// its key groups) it prepares its sink's commit, hands the prepared state to the job and holds the barrier until the job has
/// saved (then commits) or given up the checkpoint; nothing after the barrier reaches the sink before that.
/// </summary>
/// <typeparam name="T">The results.</typeparam>
internal sealed class KeyedSinkTaskRun<T>
{
    private readonly SpscChannel<T> _channel;
    private readonly Action _answered;
    private readonly Lock _gate = new();
    private TaskCompletionSource<bool>? _decision;
    private (long Id, byte[] Sink, long ReachedAt)? _snapshot;
    private T[] _items = new T[1024];
    private long _written;
    private volatile bool _ended;
    private volatile bool _finish;
    private TaskCompletionSource _finishWake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="index">The task's index (0-based).</param>
    /// <param name="channel">The task's output channel.</param>
    /// <param name="sink">The task's sink (made by the user's factory for <paramref name="index"/>).</param>
    /// <param name="answered">Tells the job (from this thread) that the sink answered a barrier or that the task's output ended.</param>
    public KeyedSinkTaskRun(int index, SpscChannel<T> channel, EventSink<T> sink, Action answered)
    {
        Index = index;
        _channel = channel;
        Sink = sink;
        _answered = answered;
    }

    public int Index { get; }

    public EventSink<T> Sink { get; }

    /// <summary>Gets the number of results written to the sink.</summary>
    public long Results => Interlocked.Read(ref _written);

    /// <summary>Gets a value indicating whether the task's output has ended (all its results are in its sink).</summary>
    public bool Ended => _ended;

    /// <summary>Gets the sink's prepared state for barrier <paramref name="id"/> and when the barrier reached this sink, or null before it has.</summary>
    public (byte[] Sink, long ReachedAt)? SnapshotOf(long id)
    {
        lock (_gate)
        {
            return _snapshot is { } s && s.Id == id ? (s.Sink, s.ReachedAt) : null;
        }
    }

    /// <summary>The job saved (true) or gave up (false) the checkpoint whose barrier this sink holds: it commits, or not, and goes on.</summary>
    public void Decide(bool saved)
    {
        lock (_gate)
        {
            _decision?.TrySetResult(saved);
        }
    }

    /// <summary>Every task's output has ended and no checkpoint is in flight: the sink completes.</summary>
    public void Finish()
    {
        _finish = true;
        _finishWake.TrySetResult();
    }

    /// <summary>The loop, on the sink's own thread: the task's results into the sink, barriers answered, until the output ends.</summary>
    /// <exception cref="QueryExecutionException">The task failed (its error came through the channel).</exception>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!_ended)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // The sink's own thread: a blocking wait for the next message (a short spin, then a wait the task wakes).
            var slot = _channel.Peek();
            if (slot is null)
            {
                cancellationToken.ThrowIfCancellationRequested();
                throw new OperationCanceledException("The job was stopped.");
            }

            switch (slot.Kind)
            {
                case ChannelMessage.Batch:
                    int count = Collect(slot.Batch);
                    _channel.Release();
                    if (count > 0)
                    {
                        await Sink.WriteAsync(_items.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
                        Interlocked.Add(ref _written, count);
                        if (System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<T>())
                        {
                            Array.Clear(_items, 0, count);
                        }
                    }

                    break;
                case ChannelMessage.Watermark:
                    _channel.Release();
                    break;
                case ChannelMessage.Barrier:
                    await ServeAsync(slot.Value, cancellationToken).ConfigureAwait(false);
                    _channel.Release(); // the task may send what it made after the barrier
                    break;
                case ChannelMessage.Completed:
                    _channel.Release();
                    _ended = true;
                    _answered();
                    break;
                default:
                    var error = slot.Error!;
                    _channel.Release();
                    throw error as QueryExecutionException ?? new QueryExecutionException(error.Message, error);
            }
        }

        while (!_finish)
        {
            await _finishWake.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        await Sink.CompleteAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Barrier <paramref name="id"/>: everything before it is in the sink; prepare, hand over, wait for the job's decision, commit.</summary>
    private async Task ServeAsync(long id, CancellationToken cancellationToken)
    {
        long reachedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        byte[] prepared = await Sink.PrepareCommitAsync(id, cancellationToken).ConfigureAwait(false);
        Task<bool> decision;
        lock (_gate)
        {
            _decision = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            _snapshot = (id, prepared, reachedAt);
            decision = _decision.Task;
        }

        _answered();
        if (await decision.WaitAsync(cancellationToken).ConfigureAwait(false))
        {
            await Sink.CommitAsync(id, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Copies the present results of a batch into the buffer (grown when needed); returns how many.</summary>
    private int Collect(Runtime.EventBatch<T> batch)
    {
        if (_items.Length < batch.Count)
        {
            _items = new T[batch.Capacity];
        }

        int count = 0;
        var payload = batch.Payload;
        var absent = batch.Absent;
        for (int i = 0; i < batch.Count; i++)
        {
            if ((absent[i >> 6] & (1UL << i)) == 0)
            {
                _items[count++] = payload[i];
            }
        }

        return count;
    }
}
