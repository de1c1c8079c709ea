using LinqStream.Physical.Union;
using LinqStream.Runtime;
using LinqStream.Runtime.Checkpoints;
using LinqStream.Temporal;

namespace LinqStream.Parallel;

/// <summary>A physical stream that is a union, or filters and projections over one: the same stream per union input.</summary>
internal interface IUnionSplittable<T>
{
    /// <summary>Gets one stream per input of the union (with this stream's filters and projections on each), or null when there is no union.</summary>
    IReadOnlyList<PhysicalStream<T>>? SplitByUnionInput();
}

/// <summary>A physical stream that is a replayed array, or filters and projections over one: the same stream per part of the array.</summary>
internal interface IRangeSplittable<T>
{
    /// <summary>Gets one stream per part of the array (chunks of about <paramref name="chunk"/> events dealt out in turn, with this stream's filters and projections on each), or null when it is not split.</summary>
    IReadOnlyList<PhysicalStream<T>>? SplitIntoRanges(int count, int chunk);
}

/// <summary>
/// Runs one keyed window aggregate on S source tasks and P aggregate tasks: each source task reads its input (the whole input
/// below the aggregate, or a contiguous group of a union's inputs, each with its own ingress and watermark) and hashes each
/// event to the task owning its key group; task t unions what the S source tasks sent it (in start order, ties from the lower
/// source task first) and runs the window operator with its own context and pools; an order-restoring merge feeds the rest
/// of the plan on the query's own thread. Queries and jobs take the same path; a job's checkpoints are aligned barriers.
/// </summary>
/// <remarks>
/// <code>
/// S source tasks (1, or min(union inputs, P))     P tasks                                          the query's thread
/// input (or inputs [0..k)) ─ hash exchange ═╦═▶ [union of S channels ─] window agg [key groups) ═╗
/// inputs [k..n)            ─ hash exchange ═╬═▶ [union of S channels ─] window agg [key groups) ═╬═▶ merge ─ rest ─ sink
///                                           ╚═ every source task has a channel to every task     ═╝
/// </code>
/// The output equals parallelism 1's event for event: a union orders ties by (start, input index), and the inputs are given
/// to source tasks in contiguous groups, so the union of the source tasks' unions restricted to one task's keys is exactly the
/// sequential union restricted to them. A task never waits on one channel while another has data (the union buffers what is
/// ahead), so S × P bounded channels cannot deadlock.
/// <para>
/// Checkpoints (docs/parallelism.md, "Checkpoints across tasks"): every source task writes its parts and sends barrier n
/// between two of its steps; a task holds each channel whose barrier has come (Flink's alignment) until every open channel's
/// has, then writes its key groups and what its union holds, and passes the barrier on; the merge aligns the P tasks. The
/// checkpoint has the sections of parallelism 1: the aggregate per key group, then the union as one union over all inputs
/// (<see cref="CanonicalUnion"/>), then each input's parts. So it restores at any parallelism, also at 1.
/// </para>
/// </remarks>
/// <typeparam name="T">The events the source tasks read.</typeparam>
/// <typeparam name="TX">What crosses the hash exchange: the events themselves, or partial groups (two-phase aggregation).</typeparam>
/// <typeparam name="TKey">The grouping key.</typeparam>
/// <typeparam name="TResult">The aggregate's results.</typeparam>
internal abstract class KeyedParallelRun<T, TX, TKey, TResult> : IParallelRun, IParallelCheckpoint, ITaskOutputs<TResult>, Runtime.State.IStateMeter
{
    /// <summary>Messages in flight per channel: bounds memory (S × P + P channels × this × batch size events) and absorbs jitter.</summary>
    internal const int ChannelCapacity = 8;

    private readonly bool _partitioned;
    private readonly bool _forward;
    private readonly bool _chained; // a forward plan over replayed partitions: source task t and task t on one thread
    private readonly QueryContext[] _sourceContexts;
    private readonly TaskDeadLetters?[] _sourceLetters;
    private readonly QueryRunner[] _sourceRunners;
    private readonly ISourceExchange<TX>[] _exchanges; // per source task: its hash exchange, or in a forward plan its one channel
    private readonly IStreamObserver<T>[] _sourceHeads; // per source task: what its input (or its union) pushes into
    private readonly UnionOperator<T>?[] _sourceUnions; // per source task: its inputs' union (partitioned only)
    private readonly SourceTaskState[] _sourceStates;
    private readonly Thread?[] _sourceThreads;
    private readonly bool[] _waitsForAlignment; // per source task: whether it waits after sending a barrier until the barrier is through
    private readonly bool[] _steppedAsync; // per source task: its steps run asynchronously (a live source): it awaits alignment instead of blocking
    private readonly bool[] _taskExited; // per task: its thread has ended (a source task waiting for alignment does not wait for it)
    private readonly bool _waitForMerge; // a source task that waits for alignment also waits until the merge took every task's barrier
    private readonly SpscChannel<TX>[][] _inputs; // [task][source task] (chained: [t][t] is unused, source task t calls task t)
    private readonly TaskInputs[] _taskStates; // per task: what it has taken from its inputs (its thread's, or its chained source task's)
    private readonly ConsumerSignal[] _signals;
    private readonly bool _spin; // whether a side that waits on a channel spins before it blocks (ChannelWaits.ShouldSpin)
    private readonly SpscChannel<TResult>[] _outputs;
    private readonly IStreamObserver<TX>[][] _taskInputs; // [task][source task]: the task's union (or fan-in) inputs, or its operator when S = 1
    private readonly UnionOperator<TX>?[] _taskUnions;
    private readonly QueryContext[] _taskContexts;
    private readonly TaskDeadLetters?[] _taskLetters;
    private readonly ForwardExchange<TResult>[] _forwards;
    private readonly (int First, int End)[] _ranges;
    private readonly List<Thread> _threads = [];
    private readonly List<BarrierTimeline> _timelines = [];
    private readonly BroadcastSide<T>? _broadcast; // a small side on the source task, its rows joined on every task (docs/parallelism.md, "The broadcast exchange")
    private BarrierCut? _cut; // the barrier asked for last: what each task wrote at it, and when it passed where
    private long _requestedBarrier;
    private int _started;
    private int _stopped;

    /// <param name="inputs">The input below the aggregate (one), or the union's inputs (partitioned).</param>
    /// <param name="partitioned">Whether <paramref name="inputs"/> are a union's inputs, read by S = min(inputs, P) source tasks.</param>
    /// <param name="createSourceHead">Builds, on each source task, what its input pushes into in front of the hash exchange.</param>
    /// <param name="keyKernel">The key of what crosses the exchange.</param>
    /// <param name="createOperator">Builds each task's operator.</param>
    /// <param name="orderedTaskInput">Whether a task takes its S channels in (start, source task) order (a union); otherwise as they come (partial groups).</param>
    /// <param name="downstream">The rest of the plan, after the merge.</param>
    /// <param name="context">The query's context.</param>
    /// <param name="forward">
    /// A forward plan (the union's inputs are partitioned by the aggregate's key): one task per source task, fed by it alone through
    /// one channel (no hash exchange), owning the key groups of its partitions; null for the hash exchange.
    /// </param>
    /// <param name="guardPartition">In a forward plan, builds (on the source task) the check in front of partition i that its events' keys are its own.</param>
    /// <param name="broadcast">A broadcast exchange: the small side on the (one) source task, its rows sent to every task, whose
    /// operator (built by <paramref name="createOperator"/>) ends in a join with them; the merge then takes ties from the highest task first.</param>
    protected KeyedParallelRun(
        IReadOnlyList<PhysicalStream<T>> inputs,
        bool partitioned,
        Func<IStreamObserver<TX>, QueryContext, IStreamObserver<T>> createSourceHead,
        Action<TX[], ulong[]?, TKey[], int> keyKernel,
        Func<IStreamObserver<TResult>, QueryContext, IStreamObserver<TX>> createOperator,
        bool orderedTaskInput,
        IStreamObserver<TResult> downstream,
        QueryContext context,
        ForwardPlan? forward = null,
        Func<int, IStreamObserver<T>, QueryContext, IStreamObserver<T>>? guardPartition = null,
        BroadcastSide<T>? broadcast = null)
    {
        var options = context.Options;
        _broadcast = broadcast;
        // Where the aggregate's state would be at parallelism 1: a checkpoint lists the parts in the same order at every P.
        context.Checkpointed.Add(new ParallelStatePart(this));
        _partitioned = partitioned;
        _forward = forward is not null;
        _chained = forward is { Chained: true };
        int parallelism = Math.Min(options.Parallelism, options.KeyGroups);
        int sources = partitioned ? Math.Min(inputs.Count, parallelism) : 1;
        if (forward is not null)
        {
            // Task t aggregates the keys of source task t's partitions alone; every source task's watermarks, barriers and
            // completion still reach every task (a task's watermark is the minimum over all partitions, as at parallelism 1).
            parallelism = sources;
            orderedTaskInput = false; // events come from one channel only: nothing to order
        }

        int channelsPerTask = sources;
        // The threads that work per event: the source tasks, and the tasks unless chained onto them. The query's thread (the merge,
        // the rest of the plan) takes results, not events, and mostly waits.
        _spin = ChannelWaits.ShouldSpin(sources + (_chained ? 0 : parallelism), options.SpinBeforeBlocking);
        // Each task writes its dead letters through its own sink, tagged with the last barrier that task passed (a job's buffer
        // commits with a checkpoint exactly the letters from before its barrier); a sink of the caller's is serialized across tasks.
        var sharedLetters = options.DeadLetters is null or IEpochDeadLetterSink ? options.DeadLetters : new LockedDeadLetters(options.DeadLetters);
        var taskOptions = options with { Progress = null };

        _inputs = new SpscChannel<TX>[parallelism][];
        _signals = new ConsumerSignal[parallelism];
        _outputs = new SpscChannel<TResult>[parallelism];
        _taskInputs = new IStreamObserver<TX>[parallelism][];
        _taskUnions = new UnionOperator<TX>?[parallelism];
        _taskContexts = new QueryContext[parallelism];
        _taskLetters = new TaskDeadLetters?[parallelism];
        _forwards = new ForwardExchange<TResult>[parallelism];
        _ranges = new (int, int)[parallelism];
        _taskStates = new TaskInputs[parallelism];
        for (int t = 0; t < parallelism; t++)
        {
            _signals[t] = new ConsumerSignal();
            _inputs[t] = new SpscChannel<TX>[channelsPerTask];
            for (int s = 0; s < channelsPerTask; s++)
            {
                _inputs[t][s] = new SpscChannel<TX>(ChannelCapacity, options.BatchSize, _signals[t]) { SpinBeforeBlocking = _spin };
            }

            _outputs[t] = new SpscChannel<TResult>(ChannelCapacity, options.BatchSize) { SpinBeforeBlocking = _spin };
            _taskLetters[t] = sharedLetters is null ? null : new TaskDeadLetters(sharedLetters);
            _taskContexts[t] = new QueryContext(taskOptions with { DeadLetters = _taskLetters[t] }) { ParallelNodes = context.ParallelNodes, KeyedState = context.KeyedState };
            _forwards[t] = new ForwardExchange<TResult>(_outputs[t], _taskContexts[t]);
            if (_chained)
            {
                int task = t;
                _forwards[t].WhileFull = () => WhileOutputFull(task);
            }

            broadcast?.AddTask(t, sources, ChannelCapacity, options.BatchSize, _signals[t], _taskContexts[t], _spin);
            var head = createOperator(_forwards[t], _taskContexts[t]);
            _ranges[t] = forward is null ? KeyGroups.RangeOf(t, options.KeyGroups, parallelism) : KeyGroups.ForwardRangeOf(t, parallelism, inputs.Count, options.KeyGroups);
            _taskInputs[t] = new IStreamObserver<TX>[channelsPerTask];
            if (channelsPerTask == 1)
            {
                _taskInputs[t][0] = head;
            }
            else if (orderedTaskInput)
            {
                var union = new UnionOperator<TX>(head, _taskContexts[t], sources);
                _taskUnions[t] = union;
                for (int s = 0; s < sources; s++)
                {
                    _taskInputs[t][s] = union.Input(s);
                }
            }
            else
            {
                var fanIn = new TwoPhase.PartialsFanIn<TX>(head, _taskContexts[t], sources);
                for (int s = 0; s < sources; s++)
                {
                    _taskInputs[t][s] = fanIn.Input(s);
                }
            }

            _taskStates[t] = new TaskInputs(_inputs[t], _taskInputs[t], _taskContexts[t].Pool<TX>(), own: _chained ? t : -1)
            {
                Side = broadcast?.TaskInput(t), // the broadcast rows: a second kind of input, aligned with the first
            };
        }

        _sourceContexts = new QueryContext[sources];
        _sourceLetters = new TaskDeadLetters?[sources];
        _sourceRunners = new QueryRunner[sources];
        _exchanges = new ISourceExchange<TX>[sources];
        _sourceHeads = new IStreamObserver<T>[sources];
        _sourceUnions = new UnionOperator<T>?[sources];
        _sourceStates = new SourceTaskState[sources];
        _sourceThreads = new Thread?[sources];
        _waitsForAlignment = new bool[sources];
        _steppedAsync = new bool[sources];
        _taskExited = new bool[parallelism];
        for (int s = 0; s < sources; s++)
        {
            _sourceLetters[s] = sharedLetters is null ? null : new TaskDeadLetters(sharedLetters);
            var sourceContext = new QueryContext(taskOptions with { DeadLetters = _sourceLetters[s] }) { ParallelNodes = context.ParallelNodes };
            ISourceExchange<TX> exchange;
            if (forward is null)
            {
                var channels = new SpscChannel<TX>[parallelism];
                for (int t = 0; t < parallelism; t++)
                {
                    channels[t] = _inputs[t][s];
                }

                exchange = new HashExchange<TX, TKey>(channels, keyKernel, options.KeyGroups, sourceContext);
            }
            else
            {
                var channels = new SpscChannel<TX>[parallelism];
                for (int t = 0; t < parallelism; t++)
                {
                    channels[t] = _inputs[t][s];
                }

                exchange = new ForwardSourceExchange<TX>(channels, s, sourceContext, _chained ? new ChainedTask(this, s) : null);
            }

            var sourceHead = createSourceHead(exchange, sourceContext);
            _sourceHeads[s] = sourceHead;
            if (partitioned)
            {
                // Always a union, also over one input: its state (each input's progress, what is buffered) is the source
                // task's share of the parallelism-1 union's state in a checkpoint.
                var (first, end) = KeyGroups.RangeOf(s, inputs.Count, sources);
                var union = new UnionOperator<T>(sourceHead, sourceContext, end - first);
                _sourceUnions[s] = union;
                for (int i = first; i < end; i++)
                {
                    var input = union.Input(i - first);
                    sourceContext.Wire(inputs[i], guardPartition is null ? input : guardPartition(i, input, sourceContext));
                }
            }
            else
            {
                inputs[0].Connect(sourceHead, sourceContext);
            }

            broadcast?.WireSource(s, sourceContext); // after the input: the small side's state comes after the input's parts, as at parallelism 1
            int source = s;
            _sourceContexts[s] = sourceContext;
            _exchanges[s] = exchange;
            _sourceStates[s] = new SourceTaskState();
            _sourceRunners[s] = new QueryRunner(sourceContext)
            {
                AfterStep = () => AfterSourceStep(source),
                Wake = () => _sourceStates[source].Wake.Task,
                Hold = () => Interlocked.Exchange(ref _sourceStates[source].Hold, null),
            };
        }

        // Only when there is something to align over (several source tasks).
        Array.Fill(_waitsForAlignment, sources > 1 && options.SourcesWaitAtBarrier != SourceBarrierWait.ReadOn);

        InputCount = inputs.Count;
        // With a sink per task (ParallelSinkJob) each task's output channel is drained by its own sink: no merge, nothing after it.
        if (!context.OutputPerTask)
        {
            // Behind a broadcast the tasks' joins give a window's results newest first (each task's keys in reverse): ties from the
            // highest task first rebuild parallelism 1's order, so the merge reads the tasks in reverse.
            int last = _outputs.Length - 1;
            Merge = broadcast is null
                ? new OrderRestoringMerge<TResult>(_outputs, downstream, context, this) { BarrierTaken = TakenAtMerge }
                : new OrderRestoringMerge<TResult>([.. _outputs.Reverse()], downstream, context, this) { BarrierTaken = i => TakenAtMerge(last - i) };
            _waitForMerge = options.SourcesWaitAtBarrier == SourceBarrierWait.UntilThrough;
            context.Sources.Add(Merge);
        }

        context.Operators.Add(this);
        broadcast?.Attach(this, this);
    }

    /// <summary>Gets the merge in front of the rest of the plan, or null when each task's output goes to a sink of its own (<see cref="QueryContext.OutputPerTask"/>).</summary>
    public OrderRestoringMerge<TResult>? Merge { get; }

    /// <summary>Gets each task's output channel (results, watermarks, barriers, completion, errors, in order).</summary>
    public IReadOnlyList<SpscChannel<TResult>> Outputs => _outputs;

    /// <summary>Gets the number of aggregate tasks.</summary>
    public int Parallelism => _outputs.Length;

    /// <summary>Gets a value indicating whether each task is fed by its own source task alone (a forward plan), not by a hash exchange.</summary>
    public bool IsForward => _forward;

    /// <summary>Gets a value indicating whether source task t and task t run on one thread (a forward plan over replayed partitions).</summary>
    public bool IsChained => _chained;

    /// <summary>Gets the key groups each task owns.</summary>
    public IReadOnlyList<(int First, int End)> Ranges => _ranges;

    /// <summary>Gets the number of source tasks.</summary>
    public int SourceTasks => _sourceContexts.Length;

    /// <summary>Gets the number of the union's inputs read by the source tasks (1 when the input is not split).</summary>
    public int InputCount { get; }

    /// <summary>Gets the tasks' groups on the heap (progress reports; read while the tasks run).</summary>
    public long HeapGroups => _taskContexts.Sum(c => c.Operators.OfType<Runtime.State.IStateMeter>().Sum(m => m.HeapGroups));

    /// <summary>Gets the tasks' groups spilled to their state stores.</summary>
    public long SpilledGroups => _taskContexts.Sum(c => c.Operators.OfType<Runtime.State.IStateMeter>().Sum(m => m.SpilledGroups));

    /// <summary>Gets the number of events all source tasks sent to each task.</summary>
    public IReadOnlyList<long> EventsPerTask
    {
        get
        {
            var sent = new long[_outputs.Length];
            foreach (var exchange in _exchanges)
            {
                for (int t = 0; t < sent.Length; t++)
                {
                    sent[t] += exchange.SentPerTask[t];
                }
            }

            return sent;
        }
    }

    /// <summary>Gets the messages waiting in every channel now (what the bounded channels hold).</summary>
    public int QueuedMessages => _inputs.Sum(cs => cs.Sum(c => c.Depth)) + _outputs.Sum(c => c.Depth);

    /// <summary>Gets the task contexts, then the source tasks' contexts (tests check their pools are whole afterwards).</summary>
    public IReadOnlyList<QueryContext> TaskContexts => [.. _taskContexts, .. _sourceContexts];

    public long EventsRead => SumOverSources(static source => source.EventsRead);

    public long LateEvents => SumOverSources(static source => source.LateEvents);

    public long MaxEventTime
    {
        get
        {
            long max = Ticks.MinusInfinity;
            foreach (var context in _sourceContexts)
            {
                foreach (var source in context.Sources.ToArray())
                {
                    max = Math.Max(max, source.MaxEventTime);
                }
            }

            return max;
        }
    }

    public bool IsLive => _sourceContexts.Any(c => c.Sources.Any(s => s.IsLive));

    public bool CanReplay => _sourceContexts.All(c => c.Sources.All(s => s.CanReplay));

    /// <summary>Gets the names of the sources that cannot replay, or of all of them when every one can.</summary>
    public string SourceNames
    {
        get
        {
            var sources = _sourceContexts.SelectMany(c => c.Sources.ToArray()).ToArray();
            var named = Array.FindAll(sources, s => !s.CanReplay);
            return string.Join(", ", (named.Length > 0 ? named : sources).Select(s => s.SourceName));
        }
    }

    /// <summary>Adds a counter over the source tasks' drivers (read from another thread, for progress and metrics).</summary>
    private long SumOverSources(Func<SourceDriver, long> read)
    {
        long total = 0;
        foreach (var context in _sourceContexts)
        {
            foreach (var source in context.Sources.ToArray())
            {
                total += read(source);
            }
        }

        return total;
    }

    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        if (_chained)
        {
            // S = P: source task t and task t on one thread (docs/parallelism.md, "Chained tasks").
            for (int t = 0; t < _outputs.Length; t++)
            {
                int task = t;
                _sourceThreads[t] = StartThread($"LinqStream source task {task + 1}/{_outputs.Length} + task {task + 1}/{_outputs.Length} (chained)", () => RunChained(task));
            }

            return;
        }

        for (int t = 0; t < _outputs.Length; t++)
        {
            int task = t;
            StartThread($"LinqStream task {task + 1}/{_outputs.Length}", () => RunTask(task));
        }

        for (int s = 0; s < _sourceContexts.Length; s++)
        {
            int source = s;
            string name = _sourceContexts.Length == 1 ? "LinqStream source task" : $"LinqStream source task {source + 1}/{_sourceContexts.Length}";
            _sourceThreads[s] = StartThread(name, () => RunSources(source));
        }
    }

    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        foreach (var runner in _sourceRunners)
        {
            runner.Stop();
        }

        foreach (var channels in _inputs)
        {
            foreach (var channel in channels)
            {
                channel.Close();
            }
        }

        foreach (var channel in _outputs)
        {
            channel.Close();
        }

        _broadcast?.Close();
        Volatile.Read(ref _cut)?.StopWaiting(); // a source task waiting for alignment goes on (and sees that the run stopped)
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

    private Thread StartThread(string name, Action body)
    {
        var thread = new Thread(() => body()) { IsBackground = true, Name = name };
        _threads.Add(thread);
        thread.Start();
        return thread;
    }

    // ---- checkpoints (docs/parallelism.md, "Checkpoints across tasks") ----

    public string AggregateName => KeyedState(0).CheckpointName;

    /// <summary>Gets the names of the parts below the aggregate as parallelism 1 lists them: the union, then each input's parts.</summary>
    public IReadOnlyList<string> SourcePartNames =>
        _partitioned
            ? ["Union", .. _sourceContexts.SelectMany(c => c.Checkpointed.Skip(1).Select(p => p.CheckpointName))]
            : [.. _sourceContexts[0].Checkpointed.Select(p => p.CheckpointName)];

    public bool IsAligned => Merge?.IsAligned ?? false;

    /// <summary>Gets Flink's alignment of the last barrier: the longest first-to-last barrier time at any task (an aggregate task over
    /// its source tasks' channels, the merge over the tasks); see <see cref="BarrierTimeline"/>.</summary>
    public TimeSpan LastAlignment => Volatile.Read(ref _cut)?.Timeline.Alignment ?? TimeSpan.Zero;

    /// <summary>Gets when each barrier asked for so far passed each point of the run (read on the job's thread, or after the run).</summary>
    public IReadOnlyList<BarrierTimeline> Timelines => _timelines;

    /// <summary>Gets the timeline of barrier <paramref name="id"/>, or null when it is not the last one asked for.</summary>
    public BarrierTimeline? Timeline(long id) => Volatile.Read(ref _cut) is { } cut && cut.Id == id ? cut.Timeline : null;

    public bool HasEnded => Merge?.IsCompleted ?? false;

    public IEnumerable<Runtime.Ingress.LateEventCounts> LateEventCounts => _sourceContexts.Select(c => c.LateEvents);

    /// <summary>Asks every source task for barrier <paramref name="id"/> (from the job's thread); each sends it between two of its steps.</summary>
    public void RequestBarrier(long id)
    {
        var cut = new BarrierCut(id, new BarrierTimeline(id, System.Diagnostics.Stopwatch.GetTimestamp(), _sourceContexts.Length, _outputs.Length), _outputs.Length, _waitForMerge)
        {
            // Chained threads wait for the barrier to be through on their task's signal (they take its inputs meanwhile): woken here, by
            // the thread that completes the wait, not by a continuation on the thread pool (which, busy, woke them only at the 100 ms backstop).
            OnAligned = _chained ? WakeChainedThreads : null,
        };
        _timelines.Add(cut.Timeline);
        Volatile.Write(ref _cut, cut);
        Interlocked.Exchange(ref _requestedBarrier, id);
        foreach (var state in _sourceStates)
        {
            Volatile.Read(ref state.Wake).TrySetResult();
        }
    }

    public void ReleaseBarrier() => Merge?.ReleaseBarrier();

    /// <summary>The state at the aligned barrier: the aggregate's section (per key group, from every task), then the parts below it.</summary>
    public (byte[] Aggregate, byte[][] Sources) StateAtBarrier() => Whole(BeginStateAtBarrier());

    /// <summary>The final state, after every task ended (the job's last checkpoint, when the input ran out before a barrier got through).</summary>
    public (byte[] Aggregate, byte[][] Sources) StateAtEnd() => Whole(BeginStateAtEnd());

    /// <summary>As <see cref="StateAtBarrier"/>; the aggregate's section is written once every task's slice is ready (a spilled
    /// aggregate's store checkpoint ends off the task's thread), so the job's thread does not wait for it.</summary>
    public (DeferredSection Aggregate, byte[][] Sources) BeginStateAtBarrier()
    {
        if (Merge is not { IsAligned: true })
        {
            throw new InvalidOperationException("The checkpoint barrier has not reached every task yet.");
        }

        return BeginStateAtTaskBarriers();
    }

    /// <summary>
    /// The state at barrier n once every task has passed it on (each task's output channel has it): the aggregate's section (per
    /// key group, from every task), then the parts below it. With a sink per task, read while the tasks' barriers are held by their sinks.
    /// </summary>
    public (byte[] Aggregate, byte[][] Sources) StateAtTaskBarriers() => Whole(BeginStateAtTaskBarriers());

    /// <summary>As <see cref="StateAtTaskBarriers"/>, with the aggregate's section written once it is ready (see <see cref="BeginStateAtBarrier"/>).</summary>
    /// <remarks>A task passes the barrier on before it writes its key groups (as a Flink task broadcasts the barrier before its
    /// snapshot: nothing it does after the barrier goes out before the snapshot, on its one thread), so the aggregate's section is
    /// ready once every task has written its slice; the job writes it then, off its loop, when a task is still writing.</remarks>
    public (DeferredSection Aggregate, byte[][] Sources) BeginStateAtTaskBarriers()
    {
        if (Volatile.Read(ref _cut) is not { } cut || Array.Exists(cut.Passed, p => !p))
        {
            throw new InvalidOperationException("The checkpoint barrier has not reached every task yet.");
        }

        var sources = new SourceSnapshot[_sourceContexts.Length];
        for (int s = 0; s < sources.Length; s++)
        {
            sources[s] = SnapshotAt(s, cut.Id);
        }

        return (DeferAggregate(cut), WriteSources(sources, cut.Unions));
    }

    /// <summary>As <see cref="StateAtEnd"/>, with the aggregate's section written once it is ready (see <see cref="BeginStateAtBarrier"/>).</summary>
    public (DeferredSection Aggregate, byte[][] Sources) BeginStateAtEnd()
    {
        if ((Merge is not null && !Merge.IsCompleted) || !Join(TimeSpan.FromSeconds(30)))
        {
            throw new InvalidOperationException("The parallel tasks are still running; their final state cannot be read yet.");
        }

        var slices = new KeyGroupSlice[_outputs.Length];
        var unions = new UnionState<T>?[_outputs.Length];
        for (int t = 0; t < slices.Length; t++)
        {
            slices[t] = KeyedState(t).WriteKeyGroups(_ranges[t].First, _ranges[t].End, _taskContexts[t].Options.KeyGroups);
            unions[t] = CaptureTaskUnion(t);
        }

        var sources = new SourceSnapshot[_sourceContexts.Length];
        for (int s = 0; s < sources.Length; s++)
        {
            sources[s] = CaptureSource(s, 0);
        }

        return (DeferAggregate(slices), WriteSources(sources, unions));
    }

    /// <summary>Loads a checkpoint's state (taken at any parallelism) into the fresh tasks and source tasks, before anything runs.</summary>
    public void Restore(byte[] aggregate, IReadOnlyList<byte[]> sources)
    {
        int keyGroups = _taskContexts[0].Options.KeyGroups;
        KeyGroupedSection section;
        using (var reader = new BinaryReader(new MemoryStream(aggregate, writable: false)))
        {
            section = KeyGroupedSection.Read(reader, keyGroups, AggregateName);
        }

        for (int t = 0; t < _outputs.Length; t++)
        {
            KeyedState(t).ReadKeyGroups(section, _ranges[t].First, _ranges[t].End);
        }

        if (!_partitioned)
        {
            var parts = _sourceContexts[0].Checkpointed;
            for (int i = 0; i < parts.Count; i++)
            {
                using var reader = new BinaryReader(new MemoryStream(sources[i], writable: false));
                parts[i].ReadState(reader);
            }

            return;
        }

        UnionState<T> union;
        using (var reader = new BinaryReader(new MemoryStream(sources[0], writable: false)))
        {
            union = (UnionState<T>)StateCodec.Read(reader, typeof(UnionState<T>))!;
        }

        if (union.Inputs.Count != InputCount)
        {
            throw new InvalidDataException($"The checkpoint's union has {union.Inputs.Count} inputs; this query's has {InputCount}.");
        }

        CanonicalUnion.Distribute(union, _sourceUnions!, _taskUnions is IReadOnlyList<UnionOperator<T>?> same ? same : new UnionOperator<T>?[_taskUnions.Length]);
        int next = 1;
        foreach (var context in _sourceContexts)
        {
            foreach (var part in context.Checkpointed.Skip(1))
            {
                using var reader = new BinaryReader(new MemoryStream(sources[next++], writable: false));
                part.ReadState(reader);
            }
        }
    }

    /// <summary>
    /// Before <see cref="Start"/> (on the job's thread, after a restore): runs what the source tasks and tasks run at a barrier once
    /// over their state as it is, keeping nothing: each source task's parts and union (<see cref="CaptureSource"/>), each task's union
    /// and key groups (a spilled aggregate's cut with an empty manifest, as at parallelism 1), the job's assembly of the section and
    /// of the canonical union, and the barrier path's own methods. JIT and the state codec's first use then happen here, not on a task's
    /// thread at the first barrier, where they delay that task's barrier behind the others' (the alignment), as issue #18 found at
    /// parallelism 1 (<see cref="ICheckpointWarmup"/>). Every part's <see cref="ICheckpointed.WriteState"/> is a pure capture except a
    /// <see cref="ICheckpointWarmup"/>'s, which is warmed through its own method.
    /// </summary>
    public void WarmCheckpointPath()
    {
        if (Volatile.Read(ref _started) != 0)
        {
            return; // the tasks own their state once they run
        }

        var sources = new SourceSnapshot[_sourceContexts.Length];
        for (int s = 0; s < sources.Length; s++)
        {
            sources[s] = CaptureSource(s, 0, warm: true);
        }

        var unions = new UnionState<T>?[_outputs.Length];
        var slices = new KeyGroupSlice[_outputs.Length];
        bool written = true;
        for (int t = 0; t < _outputs.Length; t++)
        {
            unions[t] = CaptureTaskUnion(t);
            if (KeyedState(t) is ICheckpointWarmup warm)
            {
                warm.WarmCheckpointPath(); // starts no store checkpoint
                written = false;
            }
            else
            {
                slices[t] = KeyedState(t).WriteKeyGroups(_ranges[t].First, _ranges[t].End, _taskContexts[t].Options.KeyGroups);
            }
        }

        if (written)
        {
            var section = DeferAggregate(slices);
            section.Ready.GetAwaiter().GetResult();
            section.Write(BinaryWriter.Null);
        }

        _ = WriteSources(sources, unions);
        PrepareBarrierPath();
    }

    /// <summary>Compiles the methods a barrier runs through that cannot be run before the tasks start (they send, hold and release
    /// barriers), for this run's type arguments: the source task's answer, the task's alignment, the merge's hand-over.</summary>
    private void PrepareBarrierPath()
    {
        const System.Reflection.BindingFlags All = System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Static
            | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.DeclaredOnly;
        Prepare(typeof(KeyedParallelRun<T, TX, TKey, TResult>), nameof(ServeBarrier), nameof(WaitForAlignment), nameof(WaitChained), nameof(Hold), nameof(TryAlign), nameof(Align), nameof(PassOn), nameof(TakenAtMerge), nameof(SnapshotAt), nameof(BeginStateAtBarrier), nameof(BeginStateAtTaskBarriers), nameof(ReleaseBarrier));
        Prepare(typeof(BarrierCut), nameof(BarrierCut.CheckAligned));
        Prepare(typeof(HashExchange<TX, TKey>), nameof(HashExchange<TX, TKey>.SendBarrier));
        Prepare(typeof(ForwardExchange<TResult>), nameof(ForwardExchange<TResult>.SendBarrier));
        Prepare(typeof(SpscChannel<TX>), nameof(SpscChannel<TX>.SendBarrier));
        Prepare(typeof(SpscChannel<TResult>), nameof(SpscChannel<TResult>.SendBarrier));
        Prepare(typeof(OrderRestoringMerge<TResult>), nameof(OrderRestoringMerge<TResult>.ReleaseBarrier));
        Prepare(typeof(BarrierTimeline), nameof(BarrierTimeline.Mark));

        static void Prepare(Type type, params string[] names)
        {
            var instantiation = Array.ConvertAll(type.GetGenericArguments(), a => a.TypeHandle);
            foreach (var method in type.GetMethods(All))
            {
                if (Array.IndexOf(names, method.Name) >= 0 && !method.IsAbstract && !method.ContainsGenericParameters)
                {
                    System.Runtime.CompilerServices.RuntimeHelpers.PrepareMethod(method.MethodHandle, instantiation);
                }
            }
        }
    }

    /// <summary>What task <paramref name="task"/>'s union holds, as the input's union state (null without one: one source task, or partial groups).</summary>
    private UnionState<T>? CaptureTaskUnion(int task) => (UnionState<T>?)(object?)_taskUnions[task]?.CaptureState();

    private IKeyGroupedState KeyedState(int task)
    {
        var parts = _taskContexts[task].Checkpointed.Where(p => p != _taskUnions[task] && _broadcast?.IsTaskPart(task, p) != true).ToArray();
        return parts is [IKeyGroupedState { IsKeyGrouped: true } keyed]
            ? keyed
            : throw new InvalidOperationException($"Task {task + 1} of a parallel run has {parts.Length} stateful parts; a checkpoint needs exactly one keyed aggregate per task.");
    }

    /// <summary>The aggregate's section at a barrier: once every task has written its slice (synchronous when all have already).</summary>
    private DeferredSection DeferAggregate(BarrierCut cut)
    {
        var written = Array.ConvertAll(cut.Slices, s => s.Task);
        if (Array.TrueForAll(written, w => w.IsCompletedSuccessfully))
        {
            return DeferAggregate(Array.ConvertAll(written, w => w.Result));
        }

        int keyGroups = _taskContexts[0].Options.KeyGroups;
        var slices = new KeyGroupSlice[written.Length];
        return new DeferredSection(WhenWritten(), writer => KeyGroupedSection.Write(writer, keyGroups, slices));

        async Task WhenWritten()
        {
            for (int t = 0; t < written.Length; t++)
            {
                slices[t] = await written[t].ConfigureAwait(false);
            }

            await Task.WhenAll(slices.Select(s => s.Ready)).ConfigureAwait(false);
        }
    }

    /// <summary>The aggregate's section over the tasks' slices, to be written once each slice's asynchronous part has ended.</summary>
    private DeferredSection DeferAggregate(KeyGroupSlice[] slices)
    {
        int keyGroups = _taskContexts[0].Options.KeyGroups;
        var ready = Array.TrueForAll(slices, s => ReferenceEquals(s.Ready, Task.CompletedTask)) ? Task.CompletedTask : Task.WhenAll(slices.Select(s => s.Ready));
        return new DeferredSection(ready, writer => KeyGroupedSection.Write(writer, keyGroups, slices));
    }

    /// <summary>The section's bytes, waiting for its asynchronous part (<see cref="StateAtBarrier"/>, <see cref="StateAtEnd"/>).</summary>
    private static (byte[] Aggregate, byte[][] Sources) Whole((DeferredSection Aggregate, byte[][] Sources) state)
    {
        state.Aggregate.Ready.GetAwaiter().GetResult();
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer))
        {
            state.Aggregate.Write(writer);
        }

        return (buffer.ToArray(), state.Sources);
    }

    /// <summary>The parts below the aggregate as parallelism 1 has them: one union over all inputs (partitioned), then each input's parts.</summary>
    private byte[][] WriteSources(SourceSnapshot[] sources, UnionState<T>?[] taskUnions)
    {
        if (!_partitioned)
        {
            return sources[0].Parts;
        }

        var union = CanonicalUnion.Combine([.. sources.Select(s => s.Union!)], taskUnions);
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer))
        {
            StateCodec.Write(writer, union, typeof(UnionState<T>));
        }

        return [buffer.ToArray(), .. sources.SelectMany(s => s.Parts)];
    }

    /// <summary>The source task's snapshot at barrier <paramref name="id"/>, or its final state when it ended before it served the barrier.</summary>
    private SourceSnapshot SnapshotAt(int source, long id)
    {
        var state = _sourceStates[source];
        lock (state)
        {
            if (state.Snapshot is { } served && served.Id == id)
            {
                return served;
            }
        }

        // Every task is aligned without this source task's barrier: it completed before it served the request, so its
        // channels carried its completion; its thread is ending, and what it leaves is its final state.
        if (_sourceThreads[source] is not null && !state.Ended.Task.Wait(TimeSpan.FromSeconds(30)))
        {
            throw new InvalidOperationException($"Source task {source + 1} neither sent checkpoint barrier {id} nor ended.");
        }

        lock (state)
        {
            return state.Snapshot is { } served && served.Id == id ? served : CaptureSource(source, id);
        }
    }

    /// <summary>Writes source task <paramref name="source"/>'s parts (on its thread, or after it ended): its union's state apart, the rest as bytes.</summary>
    /// <param name="source">The source task.</param>
    /// <param name="id">The barrier.</param>
    /// <param name="warm">Whether this is <see cref="WarmCheckpointPath"/>'s run: a <see cref="ICheckpointWarmup"/> part is then warmed through
    /// its own method instead (its bytes stay empty: nothing reads them).</param>
    private SourceSnapshot CaptureSource(int source, long id, bool warm = false)
    {
        var parts = _sourceContexts[source].Checkpointed;
        int skip = _partitioned ? 1 : 0;
        var data = new byte[parts.Count - skip][];
        for (int i = skip; i < parts.Count; i++)
        {
            if (warm && parts[i] is ICheckpointWarmup warmup)
            {
                warmup.WarmCheckpointPath();
                data[i - skip] = [];
                continue;
            }

            using var buffer = new MemoryStream();
            using (var writer = new BinaryWriter(buffer))
            {
                parts[i].WriteState(writer);
            }

            data[i - skip] = buffer.ToArray();
        }

        return new SourceSnapshot(id, _sourceUnions[source]?.CaptureState(), data);
    }

    /// <summary>
    /// Gets or sets what source task s calls after each of its steps with the events its own sources have read so far (a job with
    /// a sink per task counts its CheckpointEveryEvents there: one call per step, not per event); null calls nothing. Set before <see cref="Start"/>.
    /// </summary>
    public Action<int, long>? SourceStepped { get; set; }

    /// <summary>On source task <paramref name="source"/>, after each step: tells <see cref="SourceStepped"/>, takes what reached its chained task, then serves a requested barrier.</summary>
    private void AfterSourceStep(int source)
    {
        SourceStepped?.Invoke(source, SourceDriver.EventsReadBy(_sourceContexts[source].Sources));

        if (_chained)
        {
            PollChained(source); // what the other source tasks sent its task (their watermarks, barriers, completion)
        }

        ServeBarrier(source);
    }

    /// <summary>On source task <paramref name="source"/>, between two steps: writes its parts, then sends the barrier to every task after its data.</summary>
    private void ServeBarrier(int source)
    {
        var state = _sourceStates[source];
        long requested = Volatile.Read(ref _requestedBarrier);
        if (requested <= state.Served)
        {
            return;
        }

        state.Served = requested;
        var cut = Volatile.Read(ref _cut);
        if (cut is not null && cut.Id != requested)
        {
            cut = null;
        }

        if (cut is not null)
        {
            BarrierTimeline.Mark(cut.Timeline.SourceNoticed, source, System.Diagnostics.Stopwatch.GetTimestamp());
        }

        // A full fence between the new wake and the second look at the request (a plain store may pass the load), so a request
        // made meanwhile either is seen here or completes the new wake: a quiet source task never misses it.
        Interlocked.Exchange(ref state.Wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (Volatile.Read(ref _requestedBarrier) != requested)
        {
            state.Wake.TrySetResult();
        }

        var snapshot = CaptureSource(source, requested);
        lock (state)
        {
            state.Snapshot = snapshot;
        }

        // A two-phase aggregate's local phase ships what it holds first, so it has no state in the checkpoint.
        (_sourceHeads[source] as TwoPhase.IFlushAtBarrier)?.FlushAtBarrier();
        _sourceLetters[source]?.Passed(requested); // dead letters from here on come after the barrier (chained too: the task has its own)
        if (cut is not null)
        {
            BarrierTimeline.Mark(cut.Timeline.SourceSent, source, System.Diagnostics.Stopwatch.GetTimestamp());
        }

        // False when the input has ended: the snapshot is then the final state.
        _broadcast?.SendBarrier(source, requested);
        bool sent = _exchanges[source].SendBarrier(requested);
        if (_chained)
        {
            // The thread's task holds its own input at the barrier: it runs the task side until the task is aligned (and, as an
            // unchained source task would, until the barrier is through).
            WaitChained(source, sent ? cut : null);
            if (sent && cut is not null)
            {
                BarrierTimeline.Mark(cut.Timeline.SourceResumed, source, System.Diagnostics.Stopwatch.GetTimestamp());
            }

            return;
        }

        if (sent && cut is not null)
        {
            if (_waitsForAlignment[source])
            {
                cut.CheckAligned(_taskExited); // every task may have ended already (another source task failed)
                if (_steppedAsync[source])
                {
                    state.Hold = ResumeAfterAlignment(source, cut); // its runner awaits it before the next step
                    return;
                }

                WaitForAlignment(source, cut);
            }

            BarrierTimeline.Mark(cut.Timeline.SourceResumed, source, System.Diagnostics.Stopwatch.GetTimestamp());
        }
    }

    /// <summary>What a source task whose steps run asynchronously awaits before its next step (see <see cref="WaitForAlignment"/>).</summary>
    private static async Task ResumeAfterAlignment(int source, BarrierCut cut)
    {
        await cut.Aligned.ConfigureAwait(false);
        BarrierTimeline.Mark(cut.Timeline.SourceResumed, source, System.Diagnostics.Stopwatch.GetTimestamp());
    }

    /// <summary>
    /// On source task <paramref name="source"/>, after it sent the barrier: waits until the barrier is through (every aggregate task
    /// aligned at it and, with <see cref="SourceBarrierWait.UntilThrough"/> and a merge, the merge holding every task's barrier), a
    /// task ended, or the run stopped. Its barrier holds its channels at every task until the task is aligned, so what it would read
    /// meanwhile could only fill them; not reading leaves the CPU to the source tasks still before the barrier, to the tasks taking
    /// what is ahead of it and to the merge, which is what the alignment waits for (with more threads than cores, as on a 2-core
    /// machine with 2 + 2 tasks and the job's thread, that is the difference). Nothing waits for this source task meanwhile: the
    /// tasks take nothing from its channels until they are aligned, and the merge nothing past their barriers.
    /// </summary>
    private void WaitForAlignment(int source, BarrierCut cut)
    {
        var context = _sourceContexts[source];
        while (!cut.Aligned.Wait(100))
        {
            if (Volatile.Read(ref _stopped) != 0 || context.IsStopped)
            {
                return;
            }
        }
    }

    private void RunSources(int source)
    {
        try
        {
            if (_sourceContexts[source].Sources.Any(s => s.IsLive))
            {
                _steppedAsync[source] = true; // its steps go on on the thread pool, which a wait must not block
                _sourceRunners[source].RunAsync(CancellationToken.None).GetAwaiter().GetResult();
            }
            else
            {
                _sourceRunners[source].Run();
            }
        }
        catch (Exception ex)
        {
            _exchanges[source].OnError(ex);
            _broadcast?.FailSource(source, ex);
        }
        finally
        {
            _sourceContexts[source].GiveBackPools(); // this run is over for the source task's context: its batches serve the next run
            _sourceStates[source].Ended.TrySetResult();
        }
    }

    /// <summary>
    /// Task <paramref name="task"/>: takes what is there from each source task's channel in turn (a few messages each, so no
    /// channel starves) and pushes it into the task's union; waits only when every channel is empty or held at a barrier.
    /// A channel whose barrier has come is held until every open channel's has (aligned): then the task writes its key
    /// groups and its union's buffered events, releases the barriers and passes one on.
    /// </summary>
    private void RunTask(int task)
    {
        try
        {
            RunTaskToEnd(task);
        }
        catch (Exception ex)
        {
            FailTask(task, ex);
        }
        finally
        {
            _taskContexts[task].GiveBackPools(); // the task's context is not used after its end: its batches serve the next run
            TaskEnded(task);
        }
    }

    /// <summary>Runs task <paramref name="task"/> until all its inputs are done (completed or failed) or the run stopped.</summary>
    private void RunTaskToEnd(int task)
    {
        var state = _taskStates[task];
        var signal = _signals[task];
        var side = state.Side;
        Func<bool> hasMessage = side is null
            ? () => AnyMessage(state.Channels, state.Open, state.Held)
            : () => AnyMessage(state.Channels, state.Open, state.Held) || side.HasMessage();
        while ((state.Remaining > 0 || side is { Remaining: > 0 }) && !state.Ended)
        {
            if (Poll(task, state))
            {
                continue;
            }

            if (Array.Exists(state.Channels, c => c.IsClosed) || side is { AnyClosed: true })
            {
                return; // stopped
            }

            WaitForMessage(signal, hasMessage, _spin);
        }
    }

    /// <summary>
    /// One round over the task's channels (not its chained source task's: that one calls in directly): takes what is there from each,
    /// holds a channel at its barrier, and aligns when every open input is at the barrier. False when nothing came and nothing aligned.
    /// </summary>
    private bool Poll(int task, TaskInputs state)
    {
        bool received = false;
        if (state.Side is { } side)
        {
            int sideHolding = side.Holding;
            received = side.Pump();
            if (side.Failed)
            {
                state.Ended = true; // the error went downstream (through the join), once
                return true;
            }

            if (side.Holding > sideHolding)
            {
                if (state.Holding == 0 && sideHolding == 0 && Volatile.Read(ref _cut) is { } sideCut)
                {
                    BarrierTimeline.Mark(sideCut.Timeline.TaskFirst, task, System.Diagnostics.Stopwatch.GetTimestamp());
                }

                state.Barrier = side.Barrier;
            }
        }

        var channels = state.Channels;
        for (int s = 0; s < channels.Length; s++)
        {
            if (!state.Open[s] || state.Held[s] || s == state.Own)
            {
                continue;
            }

            var channel = channels[s];
            var stashed = state.Stashed?[s];
            for (int n = 0; n < channel.Capacity; n++)
            {
                if (stashed is { Count: > 0 })
                {
                    // What was moved aside while the chained thread waited for the merge comes before what is in the ring.
                    received = true;
                    var message = stashed.Dequeue();
                    if (message.Kind == ChannelMessage.Barrier)
                    {
                        Hold(task, state, s, message.Value, inRing: false);
                        break;
                    }

                    if (!DeliverControl(message, state.Inputs[s]))
                    {
                        state.Open[s] = false;
                        state.Remaining--;
                        if (message.Kind == ChannelMessage.Error)
                        {
                            state.Ended = true;
                            return true;
                        }

                        break;
                    }

                    continue;
                }

                if (channel.TryPeek() is not { } slot)
                {
                    break;
                }

                received = true;
                if (slot.Kind == ChannelMessage.Barrier)
                {
                    Hold(task, state, s, slot.Value, inRing: true);
                    break;
                }

                if (!ChannelDelivery.Deliver(channel, slot, state.Inputs[s], state.Pool))
                {
                    state.Open[s] = false;
                    state.Remaining--;
                    if (slot.Kind == ChannelMessage.Error)
                    {
                        state.Ended = true; // the error went downstream (through the union), once
                        return true;
                    }

                    break;
                }
            }
        }

        return TryAlign(task, state) || received;
    }

    /// <summary>
    /// Chained task <paramref name="task"/>'s output is full (the merge waits for another task): moves what the other source tasks sent it
    /// (watermarks, barriers, completion: in a forward plan no batch comes from them) aside, in order, so their sends never wait for this
    /// thread while it waits for the merge (which may wait for them), then waits a little for room.
    /// </summary>
    private void WhileOutputFull(int task)
    {
        var state = _taskStates[task];
        for (int s = 0; s < state.Channels.Length; s++)
        {
            if (s == state.Own || !state.Open[s])
            {
                continue;
            }

            var channel = state.Channels[s];
            var stashed = state.Stashed![s];
            if (state.Held[s] && state.HeldInRing[s])
            {
                channel.Release(); // the held barrier leaves the ring; the input stays held until aligned
                state.HeldInRing[s] = false;
            }

            while (channel.TryPeek() is { Kind: not ChannelMessage.Batch } slot)
            {
                stashed.Enqueue(new StashedMessage(slot.Kind, slot.Value, slot.Error));
                channel.Release();
            }
        }

        _outputs[task].WaitForSpace(1);
    }

    /// <summary>Pushes a stashed message into the task's input; false when that source task is done.</summary>
    private static bool DeliverControl(StashedMessage message, IStreamObserver<TX> input)
    {
        switch (message.Kind)
        {
            case ChannelMessage.Watermark:
                input.OnWatermark(message.Value);
                return true;
            case ChannelMessage.Completed:
                input.OnCompleted();
                return false;
            default:
                input.OnError(message.Error!);
                return false;
        }
    }

    /// <summary>Input <paramref name="input"/> of the task is at barrier <paramref name="id"/>: the task takes nothing more from it until aligned.</summary>
    private void Hold(int task, TaskInputs state, int input, long id, bool inRing)
    {
        state.Held[input] = true;
        state.HeldInRing[input] = inRing;
        if (state.Holding++ == 0 && state.Side is not { Holding: > 0 } && Volatile.Read(ref _cut) is { } cut)
        {
            BarrierTimeline.Mark(cut.Timeline.TaskFirst, task, System.Diagnostics.Stopwatch.GetTimestamp());
        }

        state.Barrier = id;
    }

    /// <summary>Aligns the task when every open input is held at the barrier; true when it did.</summary>
    private bool TryAlign(int task, TaskInputs state)
    {
        int holding = state.Holding + (state.Side?.Holding ?? 0);
        if (holding == 0 || holding != state.Remaining + (state.Side?.Remaining ?? 0))
        {
            return false;
        }

        Align(task, state.Barrier, state);
        state.Holding = 0;
        return true;
    }

    /// <summary>Task <paramref name="task"/> failed: a checkpoint waiting for its key groups fails (not hangs), and the error goes to its output.</summary>
    private void FailTask(int task, Exception ex)
    {
        Volatile.Read(ref _cut)?.Slices[task].TrySetException(ex);
        _outputs[task].SendError(ex);
    }

    /// <summary>Task <paramref name="task"/> ended (its inputs completed or failed, the run stopped, or it failed): a source task waiting for alignment does not wait for it.</summary>
    private void TaskEnded(int task)
    {
        Volatile.Write(ref _taskExited[task], true);
        Volatile.Read(ref _cut)?.CheckAligned(_taskExited);
    }

    // ---- chained tasks (docs/parallelism.md, "Chained tasks"): source task t and task t on one thread ----

    /// <summary>
    /// Source task <paramref name="task"/> and task <paramref name="task"/> on one thread: the source task's runner steps its partitions,
    /// and its forward exchange calls the task's operators with each batch (<see cref="ChainedTask"/>); between two steps, and whenever a
    /// send to another task's full channel would wait, the thread takes what the other source tasks sent the task (watermarks, barriers,
    /// completion). When its partitions are done it goes on as the task alone until every input is done.
    /// </summary>
    private void RunChained(int task)
    {
        try
        {
            try
            {
                _sourceRunners[task].Run();
            }
            catch (Exception ex)
            {
                _exchanges[task].OnError(ex); // the source side failed: as from an unchained source task (the task's own input gets it directly)
            }
            finally
            {
                _sourceStates[task].Ended.TrySetResult();
            }

            RunTaskToEnd(task);
        }
        catch (Exception ex)
        {
            FailTask(task, ex);
        }
        finally
        {
            TaskEnded(task);
        }
    }

    /// <summary>On a chained thread: takes what the other source tasks sent its task; a failure of the task's operators fails the task alone (as on its own thread).</summary>
    private bool PollChained(int task)
    {
        var state = _taskStates[task];
        if (state.Ended)
        {
            return false;
        }

        try
        {
            return Poll(task, state);
        }
        catch (Exception ex)
        {
            FailChained(task, ex);
            return true;
        }
    }

    /// <summary>
    /// The chained task's operators threw: the task fails as on its own thread (the error goes to its output, a checkpoint waiting for it
    /// fails), and its source task stops reading (nothing would take its events; the query is failing).
    /// </summary>
    private void FailChained(int task, Exception ex)
    {
        var state = _taskStates[task];
        if (state.Ended)
        {
            return;
        }

        state.Ended = true;
        FailTask(task, ex);
        _sourceRunners[task].Stop();
    }

    /// <summary>
    /// After chained source task <paramref name="task"/> sent barrier n: runs the task side (the other source tasks' messages) until the task
    /// is aligned, and, when <paramref name="cut"/> is given and the source task waits for alignment, until the barrier is through.
    /// </summary>
    private void WaitChained(int task, BarrierCut? cut)
    {
        var state = _taskStates[task];
        var signal = _signals[task];
        bool forAll = cut is not null && _waitsForAlignment[task]; // the cut wakes the signal when it is through (BarrierCut.OnAligned)
        Func<bool> ready = () => (state.Ended || !state.Held[task]) && (!forAll || cut!.Aligned.IsCompleted);
        Func<bool> wake = () => ready() || AnyMessage(state.Channels, state.Open, state.Held);
        while (!ready())
        {
            if (Volatile.Read(ref _stopped) != 0 || _sourceContexts[task].IsStopped)
            {
                return;
            }

            if (PollChained(task))
            {
                continue;
            }

            if (Array.Exists(state.Channels, c => c.IsClosed))
            {
                return;
            }

            WaitForMessage(signal, wake, _spin);
        }
    }

    /// <summary>
    /// On chained thread <paramref name="task"/>, before a send into another task's channel: while the channel is full, runs the task side,
    /// so that two chained threads each sending into the other's full channel do not wait for each other. False when the channel was closed.
    /// </summary>
    private bool WaitForSpaceChained(int task, SpscChannel<TX> channel)
    {
        var spinner = default(SpinWait);
        while (!channel.HasSpace)
        {

            if (channel.IsClosed)
            {
                return false;
            }

            if (PollChained(task))
            {
                spinner = default;
                continue;
            }

            if (ChannelWaits.TrySpin(ref spinner, _spin))
            {
                continue;
            }

            var state = _taskStates[task];
            _signals[task].Wait(() => channel.HasSpace || channel.IsClosed || AnyMessage(state.Channels, state.Open, state.Held), 1);
        }

        return !channel.IsClosed;
    }

    /// <summary>Wakes every chained thread waiting on its task's signal (a barrier is through, or the run stopped): once per barrier.</summary>
    private void WakeChainedThreads()
    {
        foreach (var signal in _signals)
        {
            signal.Wake();
        }
    }

    /// <summary>A message from chained source task <paramref name="task"/> to its own task, called on their thread.</summary>
    private void Chained(int task, ChannelMessage kind, EventBatch<TX>? batch, long value, Exception? error)
    {
        var state = _taskStates[task];
        if (state.Ended)
        {
            return;
        }

        var input = state.Inputs[task];
        try
        {
            switch (kind)
            {
                case ChannelMessage.Batch:
                    var own = state.Pool.Rent(); // the task's own batch: the source task's goes back to the source task's pool
                    SpscChannel<TX>.MoveInto(batch!, own);
                    input.OnBatch(own);
                    break;
                case ChannelMessage.Watermark:
                    input.OnWatermark(value);
                    break;
                case ChannelMessage.Barrier:
                    Hold(task, state, task, value, inRing: false);
                    TryAlign(task, state);
                    break;
                case ChannelMessage.Completed:
                    state.Open[task] = false;
                    state.Remaining--;
                    input.OnCompleted();
                    TryAlign(task, state);
                    break;
                default:
                    state.Open[task] = false;
                    state.Remaining--;
                    state.Ended = true; // the error goes downstream (through the fan-in), once
                    input.OnError(error!);
                    break;
            }
        }
        catch (Exception ex)
        {
            FailChained(task, ex);
        }
    }

    /// <summary>
    /// Every open channel of the task is at barrier <paramref name="id"/>: everything before it is folded in. In Flink's order: what
    /// goes out before the barrier (a local step's held events), the barrier on into the output channel, then the snapshot (the key
    /// groups), which the job's checkpoint waits for; the task takes its next input only after it. So the barrier reaches the merge
    /// without waiting for the task's state to be written, and the tasks' barriers come there as close together as they left.
    /// </summary>
    private void Align(int task, long id, TaskInputs state)
    {
        var cut = Volatile.Read(ref _cut);
        if (cut is null || cut.Id != id)
        {
            throw new InvalidOperationException($"Task {task + 1} was aligned at checkpoint barrier {id}, but the job asked for {cut?.Id ?? 0}.");
        }

        var timeline = cut.Timeline;
        BarrierTimeline.Mark(timeline.TaskAligned, task, System.Diagnostics.Stopwatch.GetTimestamp());
        cut.CheckAligned(_taskExited); // the last task aligned lets the source tasks that sent the barrier go on
        foreach (var part in _taskContexts[task].Operators)
        {
            // A local step after the aggregate (q5's per-task maximum) ships what it holds before the barrier: no state of its own.
            (part as TwoPhase.IFlushAtBarrier)?.FlushAtBarrier();
        }

        cut.Unions[task] = CaptureTaskUnion(task);
        _broadcast?.AtBarrier(task, id); // the join's state (empty: checked), and the broadcast channels' barriers released
        _taskLetters[task]?.Passed(id);
        for (int s = 0; s < state.Channels.Length; s++)
        {
            if (state.Held[s])
            {
                state.Held[s] = false;
                if (state.HeldInRing[s])
                {
                    state.Channels[s].Release(); // not when it came directly from the chained source task, or was moved aside
                }
            }
        }

        bool barrierFirst = _taskContexts[task].Options.BarrierBeforeSnapshot;
        if (barrierFirst)
        {
            PassOn(task, id, cut);
        }

        var (first, end) = _ranges[task];
        try
        {
            cut.Slices[task].TrySetResult(KeyedState(task).WriteKeyGroups(first, end, _taskContexts[task].Options.KeyGroups));
        }
        catch (Exception ex)
        {
            cut.Slices[task].TrySetException(ex); // the checkpoint fails with it; the task fails too (below, through its output)
            throw;
        }

        BarrierTimeline.Mark(timeline.TaskWritten, task, System.Diagnostics.Stopwatch.GetTimestamp());
        if (!barrierFirst)
        {
            PassOn(task, id, cut); // the order before issue #16's eighth part (benchmarks compare)
        }
    }

    /// <summary>Passes barrier <paramref name="id"/> into task <paramref name="task"/>'s output channel.</summary>
    private void PassOn(int task, long id, BarrierCut cut)
    {
        Volatile.Write(ref cut.Passed[task], true);
        BarrierTimeline.Mark(cut.Timeline.TaskPassed, task, System.Diagnostics.Stopwatch.GetTimestamp()); // before: the merge may take it at once
        _forwards[task].SendBarrier(id);
    }

    /// <summary>The merge took task <paramref name="task"/>'s barrier (on the query's thread).</summary>
    private void TakenAtMerge(int task)
    {
        if (Volatile.Read(ref _cut) is { } cut)
        {
            BarrierTimeline.Mark(cut.Timeline.MergeSeen, task, System.Diagnostics.Stopwatch.GetTimestamp());
            cut.CheckAligned(_taskExited); // the merge took the last barrier: the source tasks waiting for it go on
        }
    }

    private static bool AnyMessage(SpscChannel<TX>[] channels, bool[] open, bool[] held)
    {
        for (int s = 0; s < channels.Length; s++)
        {
            if ((open[s] && !held[s] && channels[s].TryPeek() is not null) || channels[s].IsClosed)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Spins briefly (when <paramref name="spin"/>), then blocks until a source task publishes (or 100 ms pass, a backstop).</summary>
    private static void WaitForMessage(ConsumerSignal signal, Func<bool> hasMessage, bool spin)
    {
        var spinner = default(SpinWait);
        while (!hasMessage())
        {
            if (!ChannelWaits.TrySpin(ref spinner, spin))
            {
                signal.Wait(hasMessage, 100);
                return;
            }
        }
    }

    /// <summary>What a source task wrote at a barrier: its union's state (partitioned) and its other parts.</summary>
    private sealed record SourceSnapshot(long Id, UnionState<T>? Union, byte[][] Parts);

    /// <summary>The tasks' share of one checkpoint: each task's key groups (written after it passed the barrier on) and its union's buffered events.</summary>
    private sealed class BarrierCut(long id, BarrierTimeline timeline, int tasks, bool waitForMerge)
    {
        private readonly TaskCompletionSource _aligned = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long Id { get; } = id;

        public BarrierTimeline Timeline { get; } = timeline;

        /// <summary>Gets each task's key groups at the barrier, once written.</summary>
        public TaskCompletionSource<KeyGroupSlice>[] Slices { get; } = CreateSlices(tasks);

        /// <summary>Gets what each task's union held at the barrier (set before the task passed it on).</summary>
        public UnionState<T>?[] Unions { get; } = new UnionState<T>?[tasks];

        /// <summary>Gets whether each task has passed the barrier on.</summary>
        public bool[] Passed { get; } = new bool[tasks];

        /// <summary>Gets a task that completes when every task is aligned at this barrier (and, when waiting for the merge, the merge took
        /// its barrier) or has ended, or the run stopped.</summary>
        public Task Aligned => _aligned.Task;

        /// <summary>Gets what runs, on the thread that completes <see cref="Aligned"/>, right after it (chained threads' wake-up), or null.</summary>
        public Action? OnAligned { get; init; }

        /// <summary>Completes <see cref="Aligned"/> when every task is aligned or has ended (called by each task as it aligns or ends: per barrier, not per event).</summary>
        public void CheckAligned(bool[] exited)
        {
            // A full fence between this task's mark (aligned or ended) and reading the others': two tasks marking at once must not
            // both miss the other's mark (a store may pass a later load); then at least the second sees both.
            Interlocked.MemoryBarrier();
            var aligned = Timeline.TaskAligned;
            for (int t = 0; t < aligned.Length; t++)
            {
                if ((Volatile.Read(ref aligned[t]) == 0 || (waitForMerge && Volatile.Read(ref Timeline.MergeSeen[t]) == 0)) && !Volatile.Read(ref exited[t]))
                {
                    return;
                }
            }

            Through();
        }

        /// <summary>Completes <see cref="Aligned"/> because the run stopped.</summary>
        public void StopWaiting() => Through();

        private void Through()
        {
            if (_aligned.TrySetResult())
            {
                OnAligned?.Invoke();
            }
        }

        private static TaskCompletionSource<KeyGroupSlice>[] CreateSlices(int tasks)
        {
            var slices = new TaskCompletionSource<KeyGroupSlice>[tasks];
            for (int t = 0; t < tasks; t++)
            {
                slices[t] = new TaskCompletionSource<KeyGroupSlice>(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            return slices;
        }
    }

    /// <summary>What a task has taken from its inputs (one per source task): which are open, which are held at a barrier; used on one thread.</summary>
    private sealed class TaskInputs(SpscChannel<TX>[] channels, IStreamObserver<TX>[] inputs, BatchPool<TX> pool, int own)
    {
        public readonly SpscChannel<TX>[] Channels = channels;

        public readonly IStreamObserver<TX>[] Inputs = inputs;

        public readonly BatchPool<TX> Pool = pool;

        /// <summary>The input whose messages its chained source task passes directly (not through its channel), or -1.</summary>
        public readonly int Own = own;

        public readonly bool[] Open = CreateOpen(channels.Length);

        public readonly bool[] Held = new bool[channels.Length];

        /// <summary>Per input: whether its held barrier is still the head of its channel (released at alignment).</summary>
        public readonly bool[] HeldInRing = new bool[channels.Length];

        /// <summary>Chained: per input, what was moved aside from its channel while the thread waited for the merge (taken first); else null.</summary>
        public readonly Queue<StashedMessage>[]? Stashed = own < 0 ? null : CreateStashes(channels.Length);

        public int Remaining = channels.Length;

        public int Holding;

        /// <summary>The broadcast rows (a second kind of input, aligned with the channels), or null.</summary>
        public BroadcastTaskInput? Side { get; init; }

        public long Barrier;

        /// <summary>The task is done before its inputs: an error went downstream, or its operators failed.</summary>
        public bool Ended;

        private static Queue<StashedMessage>[] CreateStashes(int count)
        {
            var stashes = new Queue<StashedMessage>[count];
            for (int i = 0; i < count; i++)
            {
                stashes[i] = new Queue<StashedMessage>();
            }

            return stashes;
        }

        private static bool[] CreateOpen(int count)
        {
            var open = new bool[count];
            Array.Fill(open, true);
            return open;
        }
    }

    /// <summary>A message moved out of a channel while a chained thread waited for the merge: a watermark, barrier, completion or error.</summary>
    private readonly record struct StashedMessage(ChannelMessage Kind, long Value, Exception? Error);

    /// <summary>Chained source task t's forward exchange into task t, on their one thread (<see cref="RunChained"/>).</summary>
    private sealed class ChainedTask(KeyedParallelRun<T, TX, TKey, TResult> run, int task) : IChainedTask<TX>
    {
        public void Batch(EventBatch<TX> batch) => run.Chained(task, ChannelMessage.Batch, batch, 0, null);

        public void Watermark(long watermark) => run.Chained(task, ChannelMessage.Watermark, null, watermark, null);

        public void Barrier(long id) => run.Chained(task, ChannelMessage.Barrier, null, id, null);

        public void Completed() => run.Chained(task, ChannelMessage.Completed, null, 0, null);

        public void Error(Exception error) => run.Chained(task, ChannelMessage.Error, null, 0, error);

        public bool WaitForSpace(SpscChannel<TX> channel) => run.WaitForSpaceChained(task, channel);
    }

    /// <summary>A source task's barrier bookkeeping: the last barrier it served (its thread only), its wake-up, its last snapshot.</summary>
    private sealed class SourceTaskState
    {
        public long Served;

        public TaskCompletionSource Wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public SourceSnapshot? Snapshot;

        /// <summary>Set when the source task's runner returned (its partitions are done, or it stopped or failed): its parts are then final.</summary>
        public readonly TaskCompletionSource Ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>What the source task's runner awaits before its next step (set on its thread, taken by its runner), or null.</summary>
        public Task? Hold;
    }
}

/// <summary>A keyed window aggregate on S source tasks and P tasks, with the events themselves crossing the hash exchange.</summary>
internal sealed class KeyedParallelRun<T, TKey, TResult> : KeyedParallelRun<T, T, TKey, TResult>
{
    /// <summary>One source task for the whole input below the aggregate.</summary>
    public KeyedParallelRun(
        PhysicalStream<T> input,
        Action<T[], ulong[]?, TKey[], int> keyKernel,
        Func<IStreamObserver<TResult>, QueryContext, IStreamObserver<T>> createOperator,
        IStreamObserver<TResult> downstream,
        QueryContext context,
        BroadcastSide<T>? broadcast = null)
        : base([input], partitioned: false, static (exchange, _) => exchange, keyKernel, createOperator, orderedTaskInput: true, downstream, context, broadcast: broadcast)
    {
    }

    /// <summary>
    /// S = min(inputs, P) source tasks, each for a contiguous group of a union's inputs (which share nothing). With
    /// <paramref name="orderedTaskInput"/> false a task takes its S channels as they come (only for an aggregate whose answer does
    /// not depend on the order of a key's events).
    /// </summary>
    public KeyedParallelRun(
        IReadOnlyList<PhysicalStream<T>> partitions,
        Action<T[], ulong[]?, TKey[], int> keyKernel,
        Func<IStreamObserver<TResult>, QueryContext, IStreamObserver<T>> createOperator,
        bool orderedTaskInput,
        IStreamObserver<TResult> downstream,
        QueryContext context)
        : base(partitions, partitioned: true, static (exchange, _) => exchange, keyKernel, createOperator, orderedTaskInput, downstream, context)
    {
    }

    /// <summary>
    /// A forward plan: the partitions are partitioned by the aggregate's key (<paramref name="forward"/>), so source task s reads its
    /// contiguous group of partitions, checks each event's key group against its partition's, and hands whole batches to task s,
    /// which owns exactly those partitions' key groups (no hash exchange; S = P = min(partitions, parallelism)). Watermarks, barriers
    /// and completion still go from every source task to every task, so every task sees parallelism 1's watermarks.
    /// </summary>
    public KeyedParallelRun(
        IReadOnlyList<PhysicalStream<T>> partitions,
        ForwardPlan forward,
        Action<T[], ulong[]?, TKey[], int> keyKernel,
        Func<IStreamObserver<TResult>, QueryContext, IStreamObserver<T>> createOperator,
        IStreamObserver<TResult> downstream,
        QueryContext context)
        : base(
            partitions,
            partitioned: true,
            static (exchange, _) => exchange,
            keyKernel,
            createOperator,
            orderedTaskInput: true,
            downstream,
            context,
            forward,
            (i, input, sourceContext) => new KeyPartitionGuard<T, TKey>(input, keyKernel, forward.Declared[i], forward.Names[i], sourceContext))
    {
    }
}
