using LinqStream.Physical.Union;
using LinqStream.Runtime;
using LinqStream.Runtime.Egress;

namespace LinqStream.Parallel;

/// <summary>
/// One task of a <see cref="ParallelSinkJob{T}"/>: a contiguous group of the query's union inputs (each with its own ingress,
/// watermark and the filters and projections above the union), their union in (start, input) order, and the task's own sink,
/// on its own thread. Nothing crosses to another task: no channel, no merge.
/// </summary>
/// <remarks>
/// Checkpoints (docs/parallelism.md, "One sink per task"): the job asks every task for checkpoint n; each task, between two of
/// its steps, writes its parts (its union and each input's positions and buffers) and prepares its sink's commit, hands both
/// to the job, and waits until the job has saved the checkpoint; it then commits its sink on its own thread (a sink's methods
/// are called one at a time, never while it commits) and goes on. Tasks share no state, so each task's cut is consistent on
/// its own, and the checkpoint is complete when every task and every sink has acknowledged it. A task whose input has ended
/// keeps answering with its final state until the job ends.
/// </remarks>
internal sealed class SinkTaskRun<T>
{
    private readonly QueryContext _context;
    private readonly QueryRunner _runner;
    private readonly ResultCollector<T> _results;
    private readonly Lock _gate = new();
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource<bool> _decision = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _requested;
    private long _served;
    private volatile bool _finish;
    private readonly Action<long>? _stepped;
    private readonly Action _inputEndedSignal;
    private readonly Action _answered;

    /// <param name="index">The task's index (0-based).</param>
    /// <param name="inputs">The task's inputs: the union's inputs of its group, or the whole query as one input.</param>
    /// <param name="sink">The task's sink (made by the user's factory for <paramref name="index"/>).</param>
    /// <param name="options">The query's settings (dead letters shared by the tasks are locked).</param>
    /// <param name="stepped">Tells the job (from the task's thread), after each step, how many events the task's sources have read so far
    /// (the job's <see cref="JobOptions.CheckpointEveryEvents"/>, counted over all tasks); null: nothing.</param>
    /// <param name="inputEnded">Tells the job (from the task's thread) that the task's input has ended.</param>
    /// <param name="answered">Tells the job (from the task's thread) that the task has answered a checkpoint request (its snapshot is there).</param>
    public SinkTaskRun(int index, IReadOnlyList<PhysicalStream<T>> inputs, EventSink<T> sink, QueryOptions options, Action<long>? stepped, Action inputEnded, Action answered)
    {
        _inputEndedSignal = inputEnded;
        _answered = answered;
        Index = index;
        Sink = sink;
        _stepped = stepped;
        _context = new QueryContext(options);
        _results = new ResultCollector<T>(_context);
        // Always a union, also over one input: the task's checkpoint has the same parts whatever its group's size.
        var union = new UnionOperator<T>(_results, _context, inputs.Count);
        for (int i = 0; i < inputs.Count; i++)
        {
            _context.Wire(inputs[i], union.Input(i));
        }

        _runner = new QueryRunner(_context);
    }

    public int Index { get; }

    public EventSink<T> Sink { get; }

    /// <summary>Gets the parts this task writes in a checkpoint, in order.</summary>
    public IReadOnlyList<Runtime.Checkpoints.ICheckpointed> Parts => _context.Checkpointed;

    private long _written;

    /// <summary>Gets the number of results written to the sink.</summary>
    public long Results => Interlocked.Read(ref _written);

    public bool CanReplay => _context.Sources.All(s => s.CanReplay);

    public IEnumerable<string> SourcesThatCannotReplay => _context.Sources.Where(s => !s.CanReplay).Select(s => s.SourceName);

    public Runtime.Ingress.LateEventCounts LateEvents => _context.LateEvents;

    private volatile bool _inputEnded;

    /// <summary>Gets a value indicating whether the task's input has ended (its last results are in its sink).</summary>
    public bool InputEnded => _inputEnded;

    private (long Id, byte[][] Parts, byte[] Sink, long ReachedAt)? _snapshot;

    /// <summary>
    /// Gets what the task wrote for checkpoint <paramref name="id"/> (its parts and its sink's prepared state) and when it reached
    /// the request (the <see cref="System.Diagnostics.Stopwatch"/> timestamp at which it stopped processing to write them), or
    /// null when it has not served it yet.
    /// </summary>
    public (byte[][] Parts, byte[] Sink, long ReachedAt)? SnapshotOf(long id)
    {
        lock (_gate)
        {
            return _snapshot is { } s && s.Id == id ? (s.Parts, s.Sink, s.ReachedAt) : null;
        }
    }

    /// <summary>Loads the task's parts and returns nothing: call before <see cref="RunAsync"/>.</summary>
    public void Restore(IReadOnlyList<byte[]> parts)
    {
        var own = _context.Checkpointed;
        for (int i = 0; i < own.Count; i++)
        {
            using var reader = new BinaryReader(new MemoryStream(parts[i], writable: false));
            own[i].ReadState(reader);
        }
    }

    /// <summary>Asks for checkpoint <paramref name="id"/> (from the job's thread); the task serves it between two steps.</summary>
    public void Request(long id)
    {
        lock (_gate)
        {
            _requested = id;
            _wake.TrySetResult();
        }
    }

    /// <summary>The job saved (true) or gave up (false) the checkpoint the task served: the task commits its sink, or not, and goes on.</summary>
    public void Decide(bool saved)
    {
        lock (_gate)
        {
            _decision.TrySetResult(saved);
        }
    }

    /// <summary>Every task's input has ended and no checkpoint is in flight: the task completes its sink and ends.</summary>
    public void Finish()
    {
        _finish = true;
        lock (_gate)
        {
            _wake.TrySetResult();
        }
    }

    public void Stop() => _runner.Stop();

    /// <summary>The task's loop, on its own thread: steps, writes each step's results to its sink, serves checkpoints.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        _runner.Start();
        while (!InputEnded)
        {
            bool more = await _runner.StepAsync(WakeTask(), cancellationToken).ConfigureAwait(false);
            await FlushAsync(cancellationToken).ConfigureAwait(false);
            if (_results.Error is { } error)
            {
                throw error as QueryExecutionException ?? new QueryExecutionException(error.Message, error);
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (!more)
            {
                _inputEnded = true;
                _inputEndedSignal();
            }
            else
            {
                _stepped?.Invoke(OwnEventsRead());
            }

            await ServeAsync(cancellationToken).ConfigureAwait(false);
        }

        // The input has ended: answer checkpoints with the final state until every task is done.
        while (!_finish)
        {
            await WakeTask().WaitAsync(cancellationToken).ConfigureAwait(false);
            await ServeAsync(cancellationToken).ConfigureAwait(false);
        }

        await Sink.CompleteAsync(cancellationToken).ConfigureAwait(false);
    }

    private Task WakeTask()
    {
        lock (_gate)
        {
            if (_wake.Task.IsCompleted && _requested <= _served && !_finish)
            {
                _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            return _wake.Task;
        }
    }

    private async Task ServeAsync(CancellationToken cancellationToken)
    {
        long id;
        lock (_gate)
        {
            id = _requested;
            if (id <= _served)
            {
                return;
            }

            _served = id;
            _decision = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        long reachedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        var parts = new byte[_context.Checkpointed.Count][];
        for (int i = 0; i < parts.Length; i++)
        {
            using var buffer = new MemoryStream();
            using (var writer = new BinaryWriter(buffer))
            {
                _context.Checkpointed[i].WriteState(writer);
            }

            parts[i] = buffer.ToArray();
        }

        byte[] sink = await Sink.PrepareCommitAsync(id, cancellationToken).ConfigureAwait(false);
        Task<bool> decision;
        lock (_gate)
        {
            _snapshot = (id, parts, sink, reachedAt);
            decision = _decision.Task;
        }

        _answered();

        // Nothing more goes to the sink until the checkpoint is saved (a staging sink publishes at its commit what it prepared).
        if (await decision.WaitAsync(cancellationToken).ConfigureAwait(false))
        {
            await Sink.CommitAsync(id, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The events this task's sources read (on the task's own thread).</summary>
    private long OwnEventsRead() => SourceDriver.EventsReadBy(_context.Sources);

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        int count = _results.Count;
        if (count == 0)
        {
            return;
        }

        await Sink.WriteAsync(_results.Items.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
        _results.Clear();
        Interlocked.Add(ref _written, count);
    }
}
