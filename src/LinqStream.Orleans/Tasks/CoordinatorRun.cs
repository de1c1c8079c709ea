using LinqStream.Orleans.Channels;
using LinqStream.Parallel;
using LinqStream.Runtime;
using LinqStream.Runtime.Checkpoints;

namespace LinqStream.Orleans.Tasks;

/// <summary>
/// The coordinator's side of a job spread over silos, where <see cref="KeyedParallelRun{T, TKey, TResult}"/> would stand in the
/// job's plan: it starts the source task and the keyed tasks as grains on the silos, receives the keyed tasks' outputs on this
/// silo and feeds them to the same order-restoring merge (then the rest of the plan and the sink run here, in the job), and
/// takes part in the job's checkpoints: it asks the source task for barrier n, collects the key groups each keyed task sends with
/// its barrier and the source task's parts, and hands the job the sections a job on one machine writes. A lost task (its silo
/// died, a channel refused it) ends the run with <see cref="ClusterTaskLostException"/>: the job rolls back.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "Its token source is cancelled by Stop and never disposed: threads still ending may register on it, and without a timer it holds nothing to release.")]
internal sealed class CoordinatorRun<T, TKey, TResult> : IParallelRun, IParallelCheckpoint, IPlacedRun
{
    private const int Capacity = 8;
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan CallLimit = TimeSpan.FromSeconds(15);

    // A task's start builds the job's query on its silo (a script job compiles its script there): slower than a call, and
    // more so on a loaded machine (the demo's 8 starts took over 15 s at load average 25).
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(60);

    private readonly CoordinatorSetup _setup;
    private readonly SpscChannel<TResult>[] _outputs;
    private readonly ChannelReceiver?[] _receivers;
    private readonly EventBatchCodec<TResult>[] _codecs;
    private readonly Thread?[] _bridges;
    private readonly (long Id, KeyGroupSlice Slice)?[] _slices;
    private readonly KeyGroupSlice?[] _finalSlices;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<Exception> _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string[] _sourceNames;
    private readonly string _aggregateName;
    private readonly int _keyGroups;
    private readonly bool _canReplay;
    private readonly bool _isLive;
    private readonly string _sources;
    private readonly ITaskGrain _source;
    private readonly ITaskGrain[] _tasks;
    private byte[]? _restoreAggregate;
    private byte[][]? _restoreSources;
    private Task<byte[][]>? _barrier;
    private long _barrierId;
    private long _eventsRead;
    private long _lateEvents;
    private long _maxEventTime = Temporal.Ticks.MinusInfinity;
    private int _started;
    private int _stopped;

    public CoordinatorRun(
        PhysicalStream<T> input,
        Action<T[], ulong[]?, TKey[], int> keyKernel,
        Func<IStreamObserver<TResult>, QueryContext, IStreamObserver<T>> createOperator,
        IStreamObserver<TResult> downstream,
        QueryContext context,
        CoordinatorSetup setup)
    {
        _setup = setup;
        var options = context.Options;
        _keyGroups = options.KeyGroups;
        context.Checkpointed.Add(new ParallelStatePart(this));

        // The names and kinds of the parts the source task and the keyed tasks will have, from the same plan built here and never
        // run: the job checks a checkpoint's sections against them before any task starts.
        var taskOptions = options with { DeadLetters = null, Progress = null };
        var probe = new QueryContext(taskOptions) { ParallelNodes = context.ParallelNodes };
        input.Connect(new HashExchange<T, TKey>([new SpscChannel<T>(2, options.BatchSize)], keyKernel, _keyGroups, probe), probe);
        _sourceNames = [.. probe.Checkpointed.Select(p => p.CheckpointName)];
        _canReplay = probe.Sources.All(s => s.CanReplay);
        _isLive = probe.Sources.Any(s => s.IsLive);
        var named = probe.Sources.Where(s => !s.CanReplay).ToArray();
        _sources = string.Join(", ", (named.Length > 0 ? named : [.. probe.Sources]).Select(s => s.SourceName));
        var operatorProbe = new QueryContext(taskOptions) { ParallelNodes = context.ParallelNodes };
        createOperator(NullObserver.Instance, operatorProbe);
        _aggregateName = operatorProbe.Checkpointed is [IKeyGroupedState { IsKeyGrouped: true } keyed]
            ? keyed.CheckpointName
            : throw new InvalidOperationException($"Job '{setup.JobId}' cannot be spread over silos: its keyed aggregate has {operatorProbe.Checkpointed.Count} stateful parts, not one written per key group.");

        int parallelism = setup.Parallelism;
        _outputs = new SpscChannel<TResult>[parallelism];
        _receivers = new ChannelReceiver?[parallelism];
        _codecs = new EventBatchCodec<TResult>[parallelism];
        _bridges = new Thread?[parallelism];
        _slices = new (long, KeyGroupSlice)?[parallelism];
        _finalSlices = new KeyGroupSlice?[parallelism];
        for (int t = 0; t < parallelism; t++)
        {
            _outputs[t] = new SpscChannel<TResult>(Capacity, options.BatchSize);
            _codecs[t] = new EventBatchCodec<TResult>(ColumnCodecs.For<TResult>(out var fallback));
            if (t == 0 && fallback is not null)
            {
                setup.Warnings.Add(fallback);
            }
        }

        // The source task's channels (built on its silo) pick the same codec for the events it sends: say here if it is JSON.
        if (typeof(T) != typeof(TResult))
        {
            ColumnCodecs.For<T>(out var inputFallback);
            if (inputFallback is not null)
            {
                setup.Warnings.Add(inputFallback);
            }
        }

        _source = setup.Grains.GetGrain<ITaskGrain>(setup.SourceKey);
        _tasks = [.. setup.TaskKeys.Select(k => setup.Grains.GetGrain<ITaskGrain>(k))];
        Merge = new OrderRestoringMerge<TResult>(_outputs, downstream, context, this);
        context.Sources.Add(Merge);
        context.Operators.Add(this);
    }

    public OrderRestoringMerge<TResult> Merge { get; }

    /// <summary>Gets the silo each task was started on: the source task, then the keyed tasks (after <see cref="Start"/>).</summary>
    public IReadOnlyList<SiloAddress> Placement { get; private set; } = [];

    /// <summary>Completes with the reason when a task is lost.</summary>
    public Task<Exception> Lost => _lost.Task;

    // ---- IParallelRun ----

    public bool CanReplay => _canReplay;

    public string SourceNames => _sources;

    public long EventsRead => Volatile.Read(ref _eventsRead);

    public long LateEvents => Volatile.Read(ref _lateEvents);

    public long MaxEventTime => Volatile.Read(ref _maxEventTime);

    public bool IsLive => _isLive;

    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        // Called on the job's thread (the merge's Start), which may block: the tasks must be running before the merge reads.
        try
        {
            StartAsync().GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is OrleansException or TimeoutException)
        {
            // A silo the layout named is gone (the membership has not declared it dead yet) or did not answer: roll back and lay out again.
            throw new ClusterTaskLostException($"The tasks of job '{_setup.JobId}' (epoch {_setup.Epoch}) could not all be started: {ex.Message}", ex);
        }
    }

    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        _stop.Cancel();
        foreach (var output in _outputs)
        {
            output.Close();
        }

        // Not awaited: a task on a dead silo must not hold the job's end; a task that is not told stops on its own when the
        // job's fence moves on (TaskGrain) or when its channels refuse it.
        foreach (var task in _tasks.Prepend(_source))
        {
            _ = task.StopAsync(_setup.Epoch).ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
        }

        for (int t = 0; t < _outputs.Length; t++)
        {
            _setup.Hub.Close(_setup.MergeKey, TaskSpec.TaskName(t));
        }
    }

    public bool Join(TimeSpan timeout)
    {
        foreach (var bridge in _bridges)
        {
            if (bridge is not null && !bridge.Join(timeout))
            {
                return false;
            }
        }

        return true;
    }

    // ---- IParallelCheckpoint ----

    public string AggregateName => _aggregateName;

    public IReadOnlyList<string> SourcePartNames => _sourceNames;

    public bool IsAligned => Merge.IsAligned;

    public TimeSpan LastAlignment => Merge.LastAlignment;

    public bool HasEnded => Merge.IsCompleted;

    // The source task counts its late events; they are not carried over yet (docs/cluster.md, limits).
    public IEnumerable<Runtime.Ingress.LateEventCounts> LateEventCounts => [];

    public void RequestBarrier(long id)
    {
        Array.Clear(_slices);
        _barrierId = id;
        _barrier = _source.BarrierAsync(_setup.Epoch, id);
    }

    public void ReleaseBarrier() => Merge.ReleaseBarrier();

    public (byte[] Aggregate, byte[][] Sources) StateAtBarrier()
    {
        var slices = new KeyGroupSlice[_slices.Length];
        for (int t = 0; t < slices.Length; t++)
        {
            slices[t] = Merge.IsAligned && _slices[t] is { } at && at.Id == _barrierId
                ? at.Slice
                : throw new InvalidOperationException($"Checkpoint barrier {_barrierId} has not come back from {TaskSpec.TaskName(t)} of job '{_setup.JobId}' yet.");
        }

        return (WriteAggregate(slices), Wait(_barrier ?? throw new InvalidOperationException("No checkpoint barrier was requested.")));
    }

    public (byte[] Aggregate, byte[][] Sources) StateAtEnd()
    {
        var slices = new KeyGroupSlice[_finalSlices.Length];
        for (int t = 0; t < slices.Length; t++)
        {
            slices[t] = _finalSlices[t] ?? throw new InvalidOperationException($"{TaskSpec.TaskName(t)} of job '{_setup.JobId}' has not sent its final state.");
        }

        return (WriteAggregate(slices), Wait(_source.FinalStateAsync(_setup.Epoch)));
    }

    public void Restore(byte[] aggregate, IReadOnlyList<byte[]> sources)
    {
        if (sources.Count != _sourceNames.Length)
        {
            throw new InvalidDataException($"The checkpoint has {sources.Count} parts below the aggregate; job '{_setup.JobId}' has {_sourceNames.Length}.");
        }

        // Each keyed task loads the key groups of its range from the whole section (at any parallelism); the source task its parts.
        _restoreAggregate = aggregate;
        _restoreSources = [.. sources];
    }

    private async Task StartAsync()
    {
        var merge = _setup.Grains.GetGrain<ITaskGrain>(_setup.MergeKey);
        for (int t = 0; t < _outputs.Length; t++)
        {
            string channel = TaskSpec.TaskName(t);
            var silo = await CoordinatorSetup.OnSilo(_setup.Local, () => merge.OpenAsync(channel, _setup.Epoch, Capacity)).ConfigureAwait(false);
            if (!silo.Equals(_setup.Local))
            {
                throw new ClusterTaskLostException($"The merge endpoint of job '{_setup.JobId}' (epoch {_setup.Epoch}) was placed on {silo}, not on the coordinator's silo {_setup.Local}.");
            }

            _receivers[t] = _setup.Hub.Find(_setup.MergeKey, channel);
        }

        for (int t = 0; t < _outputs.Length; t++)
        {
            int task = t;
            _bridges[t] = new Thread(() => Bridge(task)) { IsBackground = true, Name = $"LinqStream {_setup.JobId}/{_setup.Epoch} merge input {task}" };
            _bridges[t]!.Start();
        }

        // Keyed tasks first: each opens its input before the source task, which sends to it, starts.
        var starts = new Task<SiloAddress>[_tasks.Length];
        for (int t = 0; t < _tasks.Length; t++)
        {
            var task = _tasks[t];
            var spec = _setup.Spec(t, _restoreAggregate, null);
            starts[t] = CoordinatorSetup.OnSilo(_setup.TaskSilos[t], () => task.StartAsync(spec));
        }

        var placed = await Task.WhenAll(starts).WaitAsync(StartLimit, _setup.Time).ConfigureAwait(false);
        var sourceSpec = _setup.Spec(TaskSpec.SourceTask, null, _restoreSources);
        var sourceSilo = await CoordinatorSetup.OnSilo(_setup.SourceSilo, () => _source.StartAsync(sourceSpec)).WaitAsync(StartLimit, _setup.Time).ConfigureAwait(false);
        Placement = [sourceSilo, .. placed];
        _ = Task.Run(MonitorAsync);
    }

    /// <summary>Polls every task; the first that is gone, failed or does not answer ends the run with <see cref="ClusterTaskLostException"/>.</summary>
    private async Task MonitorAsync()
    {
        var token = _stop.Token;
        var tasks = _tasks.Prepend(_source).ToArray();
        var names = Enumerable.Range(0, _tasks.Length).Select(TaskSpec.TaskName).Prepend("source").ToArray();
        try
        {
            while (!token.IsCancellationRequested)
            {
                var polls = tasks.Select(t => t.ProgressAsync(_setup.Epoch)).ToArray();
                for (int i = 0; i < polls.Length; i++)
                {
                    TaskProgress progress;
                    try
                    {
                        progress = await polls[i].WaitAsync(CallLimit, _setup.Time, token).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !token.IsCancellationRequested)
                    {
                        Lose(new ClusterTaskLostException($"The {names[i]} task of job '{_setup.JobId}' (epoch {_setup.Epoch}) does not answer: {ex.Message}", ex));
                        return;
                    }

                    if (i == 0)
                    {
                        Volatile.Write(ref _eventsRead, progress.EventsRead);
                        Volatile.Write(ref _lateEvents, progress.LateEvents);
                        Volatile.Write(ref _maxEventTime, progress.MaxEventTime);
                    }

                    if (progress.State is TaskRunState.NotRunning or TaskRunState.Failed)
                    {
                        Lose(new ClusterTaskLostException(progress.State == TaskRunState.NotRunning
                            ? $"The {names[i]} task of job '{_setup.JobId}' (epoch {_setup.Epoch}) runs no more: its silo lost it."
                            : $"The {names[i]} task of job '{_setup.JobId}' (epoch {_setup.Epoch}) failed: {progress.Error}"));
                        return;
                    }
                }

                await Task.Delay(PollInterval, _setup.Time, token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The run stopped.
        }
    }

    private void Lose(Exception reason)
    {
        if (_lost.TrySetResult(reason))
        {
            _stop.Cancel(); // the bridges send the reason into the merge, which fails the job: it rolls back
        }
    }

    /// <summary>Keyed task <paramref name="task"/>'s frames, in order, into its in-process channel to the merge.</summary>
    private void Bridge(int task)
    {
        var receiver = _receivers[task]!;
        var output = _outputs[task];
        var codec = _codecs[task];
        var token = _stop.Token;
        try
        {
            while (true)
            {
                if (!receiver.TryTake(out var frame))
                {
                    receiver.WaitForFrameAsync(token).GetAwaiter().GetResult();
                    continue;
                }

                switch (frame.Kind)
                {
                    case ChannelFrameKind.Batch:
                        var batch = output.BeginBatch();
                        if (batch is null)
                        {
                            return; // closed: the job stopped
                        }

                        codec.Decode(receiver.Name, frame, batch);
                        output.PublishBatch();
                        break;
                    case ChannelFrameKind.Watermark:
                        output.SendWatermark(frame.Value);
                        break;
                    case ChannelFrameKind.Barrier:
                        _slices[task] = (frame.Value, SliceCodec.Read(frame.Payload, $"{TaskSpec.TaskName(task)} with barrier {frame.Value}"));
                        output.SendBarrier(frame.Value);
                        break;
                    case ChannelFrameKind.Completed:
                        _finalSlices[task] = SliceCodec.Read(frame.Payload, $"{TaskSpec.TaskName(task)} with its completion");
                        output.SendCompleted();
                        return;
                    case ChannelFrameKind.Error:
                        output.SendError(new RemoteTaskException(System.Text.Encoding.UTF8.GetString(frame.Payload)));
                        return;
                    default:
                        throw new InvalidDataException($"Channel '{receiver.Name}' received frame {frame.Sequence} of epoch {frame.Epoch} of unknown kind {(byte)frame.Kind}.");
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            if (_lost.Task.IsCompleted)
            {
                output.SendError(_lost.Task.Result);
            }
        }
        catch (Exception ex)
        {
            output.SendError(ex);
        }
    }

    private byte[][] Wait(Task<byte[][]> call)
    {
        int which = Task.WaitAny([call, _lost.Task], CallLimit);
        if (which == 0)
        {
            try
            {
                return call.GetAwaiter().GetResult();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The source task's silo died (found by this call before the poll), or its grain was activated again without the
                // run ("not the running source task"): the state cannot come, so the task is lost and the job rolls back (at most
                // JobActivation.MaxRollbacks times in a row, then it is recorded Failed with this reason).
                throw new ClusterTaskLostException($"The source task of job '{_setup.JobId}' (epoch {_setup.Epoch}) did not send its state: {ex.Message}", ex);
            }
        }

        throw which == 1
            ? _lost.Task.Result
            : new ClusterTaskLostException($"The source task of job '{_setup.JobId}' (epoch {_setup.Epoch}) did not send its state within {CallLimit.TotalSeconds} s.");
    }

    private byte[] WriteAggregate(KeyGroupSlice[] slices)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer))
        {
            KeyGroupedSection.Write(writer, _keyGroups, slices);
        }

        return buffer.ToArray();
    }

    /// <summary>Takes what the probe operator would emit (it never gets input).</summary>
    private sealed class NullObserver : IStreamObserver<TResult>
    {
        public static readonly NullObserver Instance = new();

        public void OnBatch(EventBatch<TResult> batch)
        {
        }

        public void OnWatermark(long watermark)
        {
        }

        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }
    }
}
