using LinqStream.Runtime;
using LinqStream.Runtime.Checkpoints;

namespace LinqStream.Parallel;

/// <summary>
/// Runs one keyed window aggregate on P tasks: its input (sources and everything below it) on a source task that hashes
/// each event to the task owning its key group, P tasks each running the window operator on its own thread with its own
/// context and pools, and an order-restoring merge that feeds the rest of the plan on the query's own thread.
/// </summary>
/// <remarks>
/// <code>
/// stage 1 (1 task)         stage 2 (P tasks)                       stage 3 (the query's thread)
/// sources ─ ingress ─ hash ═╦═▶ [key groups 0..k)   window agg ═╗
///     exchange by key group ╠═▶ [key groups k..2k)  window agg ═╬═▶ order-restoring merge ─ rest of the plan ─ sink
///                           ╚═▶ ...                            ═╝
/// ═ bounded SPSC channels carrying batches, watermarks, completion and errors
/// </code>
/// Operators need no locks: each task owns its operators and pools, and only channels cross threads.
/// </remarks>
internal sealed class KeyedParallelRun<T, TKey, TResult> : IParallelRun, IParallelCheckpoint, Runtime.State.IStateMeter
{
    /// <summary>Gets the tasks' groups on the heap (progress reports; read while the tasks run).</summary>
    public long HeapGroups => _taskContexts.Sum(c => c.Operators.OfType<Runtime.State.IStateMeter>().Sum(m => m.HeapGroups));

    /// <summary>Gets the tasks' groups spilled to their state stores.</summary>
    public long SpilledGroups => _taskContexts.Sum(c => c.Operators.OfType<Runtime.State.IStateMeter>().Sum(m => m.SpilledGroups));

    /// <summary>Messages in flight per channel: bounds memory (P × 2 channels × this × batch size events) and absorbs jitter.</summary>
    internal const int ChannelCapacity = 8;

    private readonly QueryContext _sourceContext;
    private readonly QueryRunner _sourceRunner;
    private readonly HashExchange<T, TKey> _exchange;
    private readonly SpscChannel<T>[] _inputs;
    private readonly SpscChannel<TResult>[] _outputs;
    private readonly IStreamObserver<T>[] _taskHeads;
    private readonly QueryContext[] _taskContexts;
    private readonly ForwardExchange<TResult>[] _forwards;
    private readonly (int First, int End)[] _ranges;
    private readonly List<Thread> _threads = [];
    private readonly KeyGroupSlice?[] _taskSlices;
    private byte[][]? _sourceSnapshot;
    private long _requestedBarrier;
    private long _servedBarrier;
    private TaskCompletionSource _barrierWake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _started;
    private int _stopped;

    public KeyedParallelRun(
        PhysicalStream<T> input,
        Action<T[], ulong[]?, TKey[], int> keyKernel,
        Func<IStreamObserver<TResult>, QueryContext, IStreamObserver<T>> createOperator,
        IStreamObserver<TResult> downstream,
        QueryContext context)
    {
        var options = context.Options;
        // Where the aggregate's state would be at parallelism 1: a checkpoint lists the parts in the same order at every P.
        context.Checkpointed.Add(new ParallelStatePart(this));
        int parallelism = Math.Min(options.Parallelism, options.KeyGroups);
        var taskOptions = options with
        {
            DeadLetters = options.DeadLetters is null ? null : new LockedDeadLetters(options.DeadLetters),
            Progress = null,
        };

        _inputs = new SpscChannel<T>[parallelism];
        _outputs = new SpscChannel<TResult>[parallelism];
        _taskHeads = new IStreamObserver<T>[parallelism];
        _taskContexts = new QueryContext[parallelism];
        _forwards = new ForwardExchange<TResult>[parallelism];
        _ranges = new (int, int)[parallelism];
        _taskSlices = new KeyGroupSlice?[parallelism];
        for (int i = 0; i < parallelism; i++)
        {
            _inputs[i] = new SpscChannel<T>(ChannelCapacity, options.BatchSize);
            _outputs[i] = new SpscChannel<TResult>(ChannelCapacity, options.BatchSize);
            _taskContexts[i] = new QueryContext(taskOptions) { ParallelNodes = context.ParallelNodes, KeyedState = context.KeyedState };
            _forwards[i] = new ForwardExchange<TResult>(_outputs[i], _taskContexts[i]);
            _taskHeads[i] = createOperator(_forwards[i], _taskContexts[i]);
            _ranges[i] = KeyGroups.RangeOf(i, options.KeyGroups, parallelism);
        }

        _sourceContext = new QueryContext(taskOptions) { ParallelNodes = context.ParallelNodes };
        _exchange = new HashExchange<T, TKey>(_inputs, keyKernel, options.KeyGroups, _sourceContext);
        input.Connect(_exchange, _sourceContext);
        _sourceRunner = new QueryRunner(_sourceContext) { AfterStep = ServeBarrier, Wake = () => _barrierWake.Task };
        Merge =  new OrderRestoringMerge<TResult>(_outputs, downstream, context, this);
        context.Sources.Add(Merge);
        context.Operators.Add(this);
    }

    public OrderRestoringMerge<TResult> Merge { get; }

    /// <summary>Gets the number of tasks.</summary>
    public int Parallelism => _inputs.Length;

    /// <summary>Gets the number of events the exchange sent to each task.</summary>
    public IReadOnlyList<long> EventsPerTask => _exchange.SentPerTask;

    /// <summary>Gets the messages waiting in every channel now (what the bounded channels hold).</summary>
    public int QueuedMessages => _inputs.Sum(c => c.Depth) + _outputs.Sum(c => c.Depth);

    /// <summary>Gets the task contexts (tests check their pools are whole afterwards).</summary>
    public IReadOnlyList<QueryContext> TaskContexts => _taskContexts;

    public long EventsRead => SumOverSources(static source => source.EventsRead);

    public long LateEvents => SumOverSources(static source => source.LateEvents);

    public long MaxEventTime
    {
        get
        {
            long max = Temporal.Ticks.MinusInfinity;
            foreach (var source in _sourceContext.Sources.ToArray())
            {
                max = Math.Max(max, source.MaxEventTime);
            }

            return max;
        }
    }

    public bool IsLive => _sourceContext.Sources.Any(s => s.IsLive);

    public bool CanReplay => _sourceContext.Sources.All(s => s.CanReplay);

    /// <summary>Gets the names of the sources that cannot replay, or of all of them when every one can.</summary>
    public string SourceNames
    {
        get
        {
            var sources = _sourceContext.Sources.ToArray();
            var named = Array.FindAll(sources, s => !s.CanReplay);
            return string.Join(", ", (named.Length > 0 ? named : sources).Select(s => s.SourceName));
        }
    }

    /// <summary>Adds a counter over the source task's drivers (read from another thread, for progress and metrics).</summary>
    private long SumOverSources(Func<SourceDriver, long> read)
    {
        long total = 0;
        foreach (var source in _sourceContext.Sources.ToArray())
        {
            total += read(source);
        }

        return total;
    }

    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        for (int i = 0; i < _taskHeads.Length; i++)
        {
            int task = i;
            StartThread($"LinqStream task {task + 1}/{_taskHeads.Length}", () => RunTask(task));
        }

        StartThread("LinqStream source task", RunSources);
    }

    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        _sourceRunner.Stop();
        foreach (var channel in _inputs)
        {
            channel.Close();
        }

        foreach (var channel in _outputs)
        {
            channel.Close();
        }
    }

    /// <summary>Waits for every thread of this run to end (tests; after <see cref="Stop"/> or completion).</summary>
    public bool Join(TimeSpan timeout)
    {
        foreach (var thread in _threads)
        {
            if (!thread.Join(timeout))
            {
                return false;
            }
        }

        return true;
    }

    private void StartThread(string name, Action body)
    {
        var thread = new Thread(() => body()) { IsBackground = true, Name = name };
        _threads.Add(thread);
        thread.Start();
    }

    // ---- checkpoints (docs/parallelism.md, "Checkpoints across tasks") ----

    public string AggregateName => KeyedState(0).CheckpointName;

    public IReadOnlyList<string> SourcePartNames => [.. _sourceContext.Checkpointed.Select(p => p.CheckpointName)];

    public bool IsAligned => Merge.IsAligned;

    public TimeSpan LastAlignment => Merge.LastAlignment;

    public bool HasEnded => Merge.IsCompleted;

    public Runtime.Ingress.LateEventCounts LateEventCounts => _sourceContext.LateEvents;

    /// <summary>Asks the source task for barrier <paramref name="id"/> (from the job's thread); it is sent between two of its steps.</summary>
    public void RequestBarrier(long id)
    {
        Interlocked.Exchange(ref _requestedBarrier, id);
        _barrierWake.TrySetResult();
    }

    public void ReleaseBarrier() => Merge.ReleaseBarrier();

    /// <summary>The state at the aligned barrier: the aggregate's section (per key group, from every task), then the source task's parts.</summary>
    public (byte[] Aggregate, byte[][] Sources) StateAtBarrier()
    {
        if (!Merge.IsAligned || _sourceSnapshot is null || _taskSlices.Any(s => s is null))
        {
            throw new InvalidOperationException("The checkpoint barrier has not reached every task yet.");
        }

        return (WriteAggregate([.. _taskSlices.Select(s => s!)]), _sourceSnapshot);
    }

    /// <summary>The final state, after every task ended (the job's last checkpoint, when the input ran out before a barrier got through).</summary>
    public (byte[] Aggregate, byte[][] Sources) StateAtEnd()
    {
        if (!Merge.IsCompleted || !Join(TimeSpan.FromSeconds(30)))
        {
            throw new InvalidOperationException("The parallel tasks are still running; their final state cannot be read yet.");
        }

        var slices = new KeyGroupSlice[_taskHeads.Length];
        for (int i = 0; i < slices.Length; i++)
        {
            slices[i] = KeyedState(i).WriteKeyGroups(_ranges[i].First, _ranges[i].End, _taskContexts[i].Options.KeyGroups);
        }

        return (WriteAggregate(slices), WriteSourceParts());
    }

    /// <summary>Loads a checkpoint's state into the fresh tasks (each its own key groups) and the source task, before anything runs.</summary>
    public void Restore(byte[] aggregate, IReadOnlyList<byte[]> sources)
    {
        int keyGroups = _taskContexts[0].Options.KeyGroups;
        KeyGroupedSection section;
        using (var reader = new BinaryReader(new MemoryStream(aggregate, writable: false)))
        {
            section = KeyGroupedSection.Read(reader, keyGroups, AggregateName);
        }

        for (int i = 0; i < _taskHeads.Length; i++)
        {
            KeyedState(i).ReadKeyGroups(section, _ranges[i].First, _ranges[i].End);
        }

        var parts = _sourceContext.Checkpointed;
        for (int i = 0; i < parts.Count; i++)
        {
            using var reader = new BinaryReader(new MemoryStream(sources[i], writable: false));
            parts[i].ReadState(reader);
        }
    }

    private IKeyGroupedState KeyedState(int task)
    {
        var parts = _taskContexts[task].Checkpointed;
        return parts is [IKeyGroupedState { IsKeyGrouped: true } keyed]
            ? keyed
            : throw new InvalidOperationException($"Task {task + 1} of a parallel run has {parts.Count} stateful parts; a checkpoint needs exactly one keyed aggregate per task.");
    }

    private byte[] WriteAggregate(IReadOnlyList<KeyGroupSlice> slices)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer))
        {
            KeyGroupedSection.Write(writer, _taskContexts[0].Options.KeyGroups, slices);
        }

        return buffer.ToArray();
    }

    private byte[][] WriteSourceParts()
    {
        var parts = _sourceContext.Checkpointed;
        var data = new byte[parts.Count][];
        for (int i = 0; i < parts.Count; i++)
        {
            using var buffer = new MemoryStream();
            using (var writer = new BinaryWriter(buffer))
            {
                parts[i].WriteState(writer);
            }

            data[i] = buffer.ToArray();
        }

        return data;
    }

    /// <summary>On the source task, between two steps: writes the sources' positions and the parts below the exchange, then sends the barrier to every task.</summary>
    private void ServeBarrier()
    {
        long requested = Volatile.Read(ref _requestedBarrier);
        if (requested <= _servedBarrier)
        {
            return;
        }

        _servedBarrier = requested;
        _barrierWake = new(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Volatile.Read(ref _requestedBarrier) != requested)
        {
            _barrierWake.TrySetResult();
        }

        Array.Clear(_taskSlices);
        _sourceSnapshot = WriteSourceParts();
        BarrierEpoch.Passed(requested); // dead letters from here on come after the barrier
        _exchange.SendBarrier(requested); // false when the input has ended: the job then takes the final state instead
    }

    private void RunSources()
    {
        BarrierEpoch.Passed(0);
        try
        {
            if (IsLive)
            {
                _sourceRunner.RunAsync(CancellationToken.None).GetAwaiter().GetResult();
            }
            else
            {
                _sourceRunner.Run();
            }
        }
        catch (Exception ex)
        {
            _exchange.OnError(ex);
        }
    }

    private void RunTask(int task)
    {
        BarrierEpoch.Passed(0);
        var channel = _inputs[task];
        var head = _taskHeads[task];
        var pool = _taskContexts[task].Pool<T>();
        try
        {
            while (channel.Peek() is { } slot)
            {
                switch (slot.Kind)
                {
                    case ChannelMessage.Batch:
                        var batch = pool.Rent();
                        SpscChannel<T>.SwapColumns(slot.Batch, batch);
                        channel.Release();
                        head.OnBatch(batch);
                        break;
                    case ChannelMessage.Watermark:
                        long watermark = slot.Value;
                        channel.Release();
                        head.OnWatermark(watermark);
                        break;
                    case ChannelMessage.Barrier:
                        long id = slot.Value;
                        channel.Release();
                        // Everything before the barrier is folded in: write this task's key groups, then pass the barrier on.
                        var (first, end) = _ranges[task];
                        _taskSlices[task] = KeyedState(task).WriteKeyGroups(first, end, _taskContexts[task].Options.KeyGroups);
                        BarrierEpoch.Passed(id);
                        _forwards[task].SendBarrier(id);
                        break;
                    case ChannelMessage.Completed:
                        channel.Release();
                        head.OnCompleted();
                        return;
                    default:
                        var error = slot.Error!;
                        channel.Release();
                        head.OnError(error);
                        return;
                }
            }
        }
        catch (Exception ex)
        {
            _outputs[task].SendError(ex);
        }
    }
}
