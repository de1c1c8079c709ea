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
/// <para>Three files: this one (building the run, starting, stopping), <c>CoordinatorRun.Checkpoints.cs</c> (barriers, the sections
/// written and restored) and <c>CoordinatorRun.Tasks.cs</c> (the poll of the tasks and the bridges into the merge).</para>
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "Its token source is cancelled by Stop and never disposed: threads still ending may register on it, and without a timer it holds nothing to release.")]
internal sealed partial class CoordinatorRun<T, TKey, TResult> : IParallelRun, IParallelCheckpoint, IPlacedRun
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
        ExchangeProjection crossing,
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

        // The source tasks' channels (built on their silos) pick the same codec for the events they send: say what crosses, and
        // here if it is JSON.
        ColumnCodecs.ForEvents<T>(crossing, setup.Submission.ProjectExchange, out var crosses, out var inputFallback);
        setup.Crossing = crosses;
        if (inputFallback is not null && typeof(T) != typeof(TResult))
        {
            setup.Warnings.Add(inputFallback);
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

    private void Lose(Exception reason)
    {
        if (_lost.TrySetResult(reason))
        {
            _stop.Cancel(); // the bridges send the reason into the merge, which fails the job: it rolls back
        }
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