using LinqStream.Orleans.Channels;
using LinqStream.Parallel;
using LinqStream.Physical.Union;
using LinqStream.Runtime;
using LinqStream.Runtime.Checkpoints;

namespace LinqStream.Orleans.Tasks;

/// <summary>
/// The coordinator's side of a job spread over silos, where <see cref="KeyedParallelRun{T, TKey, TResult}"/> would stand in the
/// job's plan: it starts the source tasks and the keyed tasks as grains on the silos, receives the keyed tasks' outputs on this
/// silo and feeds them to the same order-restoring merge (then the rest of the plan and the sink run here, in the job), and
/// takes part in the job's checkpoints: it asks every source task for barrier n, collects the key groups each keyed task sends
/// with its barrier and the source tasks' parts, and hands the job the sections a job on one machine writes. A lost task (its
/// silo died, a channel refused it) ends the run with <see cref="ClusterTaskLostException"/>: the job rolls back.
/// </summary>
/// <remarks>
/// Over a union of partitions, S = min(partitions, P) source tasks each read a contiguous group of them through a union of their
/// own, and each keyed task unions the S channels (as in one process). A checkpoint then holds the union over all partitions as
/// parallelism 1 has it (<see cref="CanonicalUnion.Combine"/> of the source tasks' unions and what the keyed tasks' unions held
/// at the barrier), then each source task's parts in order, so it restores at any P and any S.
/// </remarks>
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
    private readonly (long Id, KeyGroupSlice Slice, UnionState<T>? Union)?[] _slices;
    private readonly (KeyGroupSlice Slice, UnionState<T>? Union)?[] _finalSlices;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<Exception> _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string[] _sourceNames;
    private readonly int[] _sourceParts; // per source task: its parts below the aggregate in a checkpoint, its union not counted
    private readonly bool _partitioned;
    private readonly int _inputCount;
    private readonly string _aggregateName;
    private readonly int _keyGroups;
    private readonly bool _canReplay;
    private readonly bool _isLive;
    private readonly string _sources;
    private readonly ITaskGrain[] _sourceTasks;
    private readonly ITaskGrain[] _tasks;
    private byte[]? _restoreAggregate;
    private byte[][][]? _restoreSources; // per source task
    private long? _restoreUnionWatermark;
    private Task<byte[][]>[]? _barrier;
    private long _barrierId;
    private long _eventsRead;
    private long _lateEvents;
    private long _maxEventTime = Temporal.Ticks.MinusInfinity;
    private int _started;
    private int _stopped;

    public CoordinatorRun(
        IReadOnlyList<PhysicalStream<T>> inputs,
        bool partitioned,
        Action<T[], ulong[]?, TKey[], int> keyKernel,
        Func<IStreamObserver<TResult>, QueryContext, IStreamObserver<T>> createOperator,
        IStreamObserver<TResult> downstream,
        QueryContext context,
        CoordinatorSetup setup)
    {
        _setup = setup;
        var options = context.Options;
        _keyGroups = options.KeyGroups;
        _partitioned = partitioned;
        _inputCount = inputs.Count;
        context.Checkpointed.Add(new ParallelStatePart(this));

        // The names and kinds of the parts the source tasks and the keyed tasks will have, from the same plan built here and never
        // run: the job checks a checkpoint's sections against them before any task starts.
        var taskOptions = options with { DeadLetters = null, Progress = null };
        int sources = TaskSpec.SourceTasksFor(inputs.Count, partitioned, setup.Parallelism);
        var probes = new QueryContext[sources];
        for (int s = 0; s < sources; s++)
        {
            var probe = new QueryContext(taskOptions) { ParallelNodes = context.ParallelNodes };
            var exchange = new HashExchange<T, TKey>([new SpscChannel<T>(2, options.BatchSize)], keyKernel, _keyGroups, probe);
            if (partitioned)
            {
                var (first, end) = KeyGroups.RangeOf(s, inputs.Count, sources);
                var union = new UnionOperator<T>(exchange, probe, end - first);
                for (int i = first; i < end; i++)
                {
                    probe.Wire(inputs[i], union.Input(i - first));
                }
            }
            else
            {
                inputs[0].Connect(exchange, probe);
            }

            probes[s] = probe;
        }

        int skip = partitioned ? 1 : 0;
        _sourceParts = [.. probes.Select(p => p.Checkpointed.Count - skip)];
        _sourceNames = partitioned
            ? ["Union", .. probes.SelectMany(p => p.Checkpointed.Skip(1).Select(part => part.CheckpointName))]
            : [.. probes[0].Checkpointed.Select(p => p.CheckpointName)];
        var drivers = probes.SelectMany(p => p.Sources.ToArray()).ToArray();
        _canReplay = drivers.All(s => s.CanReplay);
        _isLive = drivers.Any(s => s.IsLive);
        var named = drivers.Where(s => !s.CanReplay).ToArray();
        _sources = string.Join(", ", (named.Length > 0 ? named : drivers).Select(s => s.SourceName));
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
        _slices = new (long, KeyGroupSlice, UnionState<T>?)?[parallelism];
        _finalSlices = new (KeyGroupSlice, UnionState<T>?)?[parallelism];
        for (int t = 0; t < parallelism; t++)
        {
            _outputs[t] = new SpscChannel<TResult>(Capacity, options.BatchSize);
            _codecs[t] = new EventBatchCodec<TResult>(ColumnCodecs.For<TResult>(out var fallback));
            if (t == 0 && fallback is not null)
            {
                setup.Warnings.Add(fallback);
            }
        }

        // The source tasks' channels (built on their silos) pick the same codec for the events they send: say here if it is JSON.
        if (typeof(T) != typeof(TResult))
        {
            ColumnCodecs.For<T>(out var inputFallback);
            if (inputFallback is not null)
            {
                setup.Warnings.Add(inputFallback);
            }
        }

        _sourceTasks = [.. Enumerable.Range(0, sources).Select(s => setup.Grains.GetGrain<ITaskGrain>(setup.SourceKey(s, sources)))];
        _tasks = [.. setup.TaskKeys.Select(k => setup.Grains.GetGrain<ITaskGrain>(k))];
        Merge = new OrderRestoringMerge<TResult>(_outputs, downstream, context, this);
        context.Sources.Add(Merge);
        context.Operators.Add(this);
    }

    public OrderRestoringMerge<TResult> Merge { get; }

    /// <summary>Gets the silo each task was started on: the source tasks, then the keyed tasks (after <see cref="Start"/>).</summary>
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
        foreach (var task in _sourceTasks.Concat(_tasks))
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

    // The source tasks count their late events; they are not carried over yet (docs/cluster.md, limits).
    public IEnumerable<Runtime.Ingress.LateEventCounts> LateEventCounts => [];

    public void RequestBarrier(long id)
    {
        Array.Clear(_slices);
        _barrierId = id;
        _barrier = [.. _sourceTasks.Select(s => s.BarrierAsync(_setup.Epoch, id))];
    }

    public void ReleaseBarrier() => Merge.ReleaseBarrier();

    public (byte[] Aggregate, byte[][] Sources) StateAtBarrier()
    {
        var slices = new (KeyGroupSlice Slice, UnionState<T>? Union)[_slices.Length];
        for (int t = 0; t < slices.Length; t++)
        {
            slices[t] = Merge.IsAligned && _slices[t] is { } at && at.Id == _barrierId
                ? (at.Slice, at.Union)
                : throw new InvalidOperationException($"Checkpoint barrier {_barrierId} has not come back from {TaskSpec.TaskName(t)} of job '{_setup.JobId}' yet.");
        }

        var barrier = _barrier ?? throw new InvalidOperationException("No checkpoint barrier was requested.");
        return (WriteAggregate(slices), WriteSources([.. barrier.Select(Wait)], slices));
    }

    public (byte[] Aggregate, byte[][] Sources) StateAtEnd()
    {
        var slices = new (KeyGroupSlice Slice, UnionState<T>? Union)[_finalSlices.Length];
        for (int t = 0; t < slices.Length; t++)
        {
            slices[t] = _finalSlices[t] ?? throw new InvalidOperationException($"{TaskSpec.TaskName(t)} of job '{_setup.JobId}' has not sent its final state.");
        }

        return (WriteAggregate(slices), WriteSources([.. _sourceTasks.Select(s => Wait(s.FinalStateAsync(_setup.Epoch)))], slices));
    }

    public void Restore(byte[] aggregate, IReadOnlyList<byte[]> sources)
    {
        if (sources.Count != _sourceNames.Length)
        {
            throw new InvalidDataException($"The checkpoint has {sources.Count} parts below the aggregate; job '{_setup.JobId}' has {_sourceNames.Length}.");
        }

        // Each keyed task loads the key groups of its range from the whole section (at any parallelism); each source task its parts.
        _restoreAggregate = aggregate;
        if (!_partitioned)
        {
            _restoreSources = [[.. sources]];
            return;
        }

        // The union over all partitions, as parallelism 1 has it: each source task gets its group's share, then its own parts; the
        // keyed tasks' unions start empty with the watermark already sent (the source tasks send again what they held).
        UnionState<T> union;
        using (var reader = new BinaryReader(new MemoryStream(sources[0], writable: false)))
        {
            union = (UnionState<T>)StateCodec.Read(reader, typeof(UnionState<T>))!;
        }

        if (union.Inputs.Count != _inputCount)
        {
            throw new InvalidDataException($"The checkpoint's union has {union.Inputs.Count} inputs; job '{_setup.JobId}' reads {_inputCount}.");
        }

        var shares = new byte[_sourceTasks.Length][][];
        int next = 1;
        for (int s = 0; s < shares.Length; s++)
        {
            var share = new byte[1 + _sourceParts[s]][];
            share[0] = Encode(CanonicalUnion.SourceShare(union, s, shares.Length));
            for (int i = 1; i < share.Length; i++)
            {
                share[i] = sources[next++];
            }

            shares[s] = share;
        }

        _restoreSources = shares;
        _restoreUnionWatermark = _sourceTasks.Length > 1 ? union.OutputWatermark : null;
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

        // Keyed tasks first: each opens its inputs before the source tasks, which send to them, start.
        int sources = _sourceTasks.Length;
        var starts = new Task<SiloAddress>[_tasks.Length];
        for (int t = 0; t < _tasks.Length; t++)
        {
            var task = _tasks[t];
            var spec = _setup.KeyedSpec(t, sources, _restoreAggregate, _restoreUnionWatermark);
            starts[t] = CoordinatorSetup.OnSilo(_setup.TaskSilos[t], () => task.StartAsync(spec));
        }

        var placed = await Task.WhenAll(starts).WaitAsync(StartLimit, _setup.Time).ConfigureAwait(false);
        var sourceStarts = new Task<SiloAddress>[sources];
        for (int s = 0; s < sources; s++)
        {
            var source = _sourceTasks[s];
            var spec = _setup.SourceSpec(s, sources, _restoreSources?[s]);
            sourceStarts[s] = CoordinatorSetup.OnSilo(_setup.SourceSilo(s), () => source.StartAsync(spec));
        }

        var sourceSilos = await Task.WhenAll(sourceStarts).WaitAsync(StartLimit, _setup.Time).ConfigureAwait(false);
        Placement = [.. sourceSilos, .. placed];
        _ = Task.Run(MonitorAsync);
    }

    /// <summary>Polls every task; the first that is gone, failed or does not answer ends the run with <see cref="ClusterTaskLostException"/>.</summary>
    private async Task MonitorAsync()
    {
        var token = _stop.Token;
        int sources = _sourceTasks.Length;
        var tasks = _sourceTasks.Concat(_tasks).ToArray();
        var names = Enumerable.Range(0, sources).Select(s => TaskSpec.SourceName(s, sources)).Concat(Enumerable.Range(0, _tasks.Length).Select(TaskSpec.TaskName)).ToArray();
        try
        {
            while (!token.IsCancellationRequested)
            {
                var polls = tasks.Select(t => t.ProgressAsync(_setup.Epoch)).ToArray();
                long read = 0, late = 0, max = Temporal.Ticks.MinusInfinity;
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

                    if (i < sources)
                    {
                        read += progress.EventsRead;
                        late += progress.LateEvents;
                        max = Math.Max(max, progress.MaxEventTime);
                        if (i == sources - 1)
                        {
                            Volatile.Write(ref _eventsRead, read);
                            Volatile.Write(ref _lateEvents, late);
                            Volatile.Write(ref _maxEventTime, max);
                        }
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
                            frame.Release();
                            return; // closed: the job stopped
                        }

                        try
                        {
                            codec.Decode(receiver.Name, frame, batch);
                        }
                        finally
                        {
                            frame.Release();
                        }

                        output.PublishBatch();
                        break;
                    case ChannelFrameKind.Watermark:
                        output.SendWatermark(frame.Value);
                        break;
                    case ChannelFrameKind.Barrier:
                        string at = $"{TaskSpec.TaskName(task)} with barrier {frame.Value}";
                        var slice = SliceCodec.Read(frame.Payload, at, out var union);
                        _slices[task] = (frame.Value, slice, ReadUnion(union, at));
                        output.SendBarrier(frame.Value);
                        break;
                    case ChannelFrameKind.Completed:
                        string final = $"{TaskSpec.TaskName(task)} with its completion";
                        var finalSlice = SliceCodec.Read(frame.Payload, final, out var finalUnion);
                        _finalSlices[task] = (finalSlice, ReadUnion(finalUnion, final));
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
                // A source task's silo died (found by this call before the poll), or its grain was activated again without the
                // run ("not the running source task"): the state cannot come, so the task is lost and the job rolls back (at most
                // JobActivation.MaxRollbacks times in a row, then it is recorded Failed with this reason).
                throw new ClusterTaskLostException($"A source task of job '{_setup.JobId}' (epoch {_setup.Epoch}) did not send its state: {ex.Message}", ex);
            }
        }

        throw which == 1
            ? _lost.Task.Result
            : new ClusterTaskLostException($"A source task of job '{_setup.JobId}' (epoch {_setup.Epoch}) did not send its state within {CallLimit.TotalSeconds} s.");
    }

    private byte[] WriteAggregate((KeyGroupSlice Slice, UnionState<T>? Union)[] slices)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer))
        {
            KeyGroupedSection.Write(writer, _keyGroups, [.. slices.Select(s => s.Slice)]);
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// The parts below the aggregate as parallelism 1 has them: one source task's parts as they are; with a union of partitions,
    /// the union over all of them (the source tasks' unions and what the keyed tasks' unions held), then each source task's parts.
    /// </summary>
    private byte[][] WriteSources(byte[][][] parts, (KeyGroupSlice Slice, UnionState<T>? Union)[] tasks)
    {
        if (!_partitioned)
        {
            return parts[0];
        }

        var unions = new UnionState<T>[parts.Length];
        for (int s = 0; s < parts.Length; s++)
        {
            if (parts[s].Length != 1 + _sourceParts[s])
            {
                throw new InvalidDataException($"{TaskSpec.SourceName(s, parts.Length)} of job '{_setup.JobId}' sent {parts[s].Length} parts; it has {1 + _sourceParts[s]}.");
            }

            using var reader = new BinaryReader(new MemoryStream(parts[s][0], writable: false));
            unions[s] = (UnionState<T>)StateCodec.Read(reader, typeof(UnionState<T>))!;
        }

        var union = CanonicalUnion.Combine<T>(unions, [.. tasks.Select(t => t.Union)]);
        return [Encode(union), .. parts.SelectMany(p => p.Skip(1))];
    }

    /// <summary>A keyed task's union state sent with its barrier or completion (null: one source task, no union).</summary>
    private static UnionState<T>? ReadUnion(byte[]? bytes, string origin)
    {
        if (bytes is null)
        {
            return null;
        }

        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes, writable: false));
            return (UnionState<T>)StateCodec.Read(reader, typeof(UnionState<T>))!;
        }
        catch (Exception ex) when (ex is EndOfStreamException or InvalidCastException or InvalidDataException)
        {
            throw new InvalidDataException($"The union state {origin} sent cannot be read: {ex.Message}", ex);
        }
    }

    private static byte[] Encode(UnionState<T> union)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer))
        {
            StateCodec.Write(writer, union, typeof(UnionState<T>));
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
