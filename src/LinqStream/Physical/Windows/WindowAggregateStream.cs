using System.Linq.Expressions;
using LinqStream.Physical.Aggregate;
using LinqStream.Physical.Kernels;
using LinqStream.Physical.Windows.Session;
using LinqStream.Runtime;
using LinqStream.Temporal;

namespace LinqStream.Physical.Windows;

/// <summary>The physical node of a window aggregate: window, optional grouping key, and the result selector's aggregates.</summary>
internal sealed class WindowAggregateStream<T, TKey, TResult> : PhysicalStream<TResult>, IBufferingNode, Parallel.IKeyedAggregateNode, ICompilesKernels,
    Parallel.IWholeWindowAggregateNode, Parallel.IBroadcastSmallSide<T, TResult>, Parallel.IBroadcastKeyedNode<TResult>
    where TKey : notnull
{
    private readonly PhysicalStream<T> _source;
    private readonly WindowSpec _window;
    private readonly LambdaExpression? _keySelector;
    private readonly LambdaExpression _resultSelector;
    private readonly Func<AggregatePlan<T, TKey, TResult>> _createPlan;
    private readonly KernelCompiler _compiler;
    private Action<T[], ulong[]?, TKey[], int>? _keyKernel;
    private AggregatePlan<T, TKey, TResult>? _unused;
    private Parallel.ExchangeProjection? _inputReads;
    private bool _compiled;

    /// <param name="source">The input stream (not yet windowed: the window is applied here).</param>
    /// <param name="window">The window.</param>
    /// <param name="keySelector">The grouping key over <typeparamref name="T"/>, or null to aggregate each window as a whole (TKey = NoKey).</param>
    /// <param name="resultSelector">A lambda over <c>IWindowGroup&lt;TKey, T&gt;</c> (or <c>IWindow&lt;T&gt;</c>).</param>
    /// <param name="aggregates">The aggregates as the plan prints them (<c>Count(), Max(b =&gt; b.Price)</c>).</param>
    /// <param name="bufferReason">Why the window is buffered, or null when every aggregate is incremental.</param>
    /// <param name="createPlan">
    /// Builds the aggregates' columns and result kernel (physical planning maps the aggregates translation recognised); called once per
    /// operator, since each operator's columns hold its state.
    /// </param>
    /// <param name="kernels">Compiles the key kernel (<see cref="KernelCompiler.Shared"/> when null).</param>
    public WindowAggregateStream(
        PhysicalStream<T> source,
        WindowSpec window,
        LambdaExpression? keySelector,
        LambdaExpression resultSelector,
        string aggregates,
        string? bufferReason,
        Func<AggregatePlan<T, TKey, TResult>> createPlan,
        KernelCompiler? kernels = null)
    {
        _source = source;
        _window = window;
        _keySelector = keySelector;
        _resultSelector = resultSelector;
        _createPlan = createPlan;
        _compiler = kernels ?? KernelCompiler.Shared;
        Aggregates = aggregates;
        BufferReason = bufferReason;
    }

    public string Aggregates { get; }

    public string? BufferReason { get; }

    public WindowSpec Window => _window;

    public override string Name => _window.Kind == WindowKind.Session ? "SessionWindowAggregate" : _window.Kind + "WindowAggregate";

    public override string Detail =>
        $"{_window}{(_keySelector is null ? string.Empty : ", key: " + _keySelector)}, aggregates: [{Aggregates}]"
        + (BufferReason is null ? string.Empty : " (buffered: no incremental form)");

    public override IReadOnlyList<PhysicalNode> Inputs => [_source];

    /// <summary>Gets the grouping key, or null when each window is aggregated as a whole.</summary>
    public LambdaExpression? KeySelector => _keySelector;

    /// <summary>Gets a value indicating whether each tumbling or hopping window is aggregated as a whole (no key): a broadcast's small side.</summary>
    public bool IsWholeWindow => _keySelector is null && _window.Kind != WindowKind.Session;

    /// <summary>Gets the input (as a broadcast's small side: the multicast it shares with the keyed aggregate).</summary>
    public PhysicalStream<T> SmallSideInput => _source;

    /// <summary>Gets the grouping key's source text, or null when each window is aggregated as a whole.</summary>
    public string? KeyDescription => _keySelector?.ToString();

    /// <summary>Gets what this aggregate reads of each input event (its key selector and result selector's aggregates), once.</summary>
    public Parallel.ExchangeProjection InputReads =>
        _inputReads ??= Parallel.ExchangeProjection.Analyze(typeof(T), _keySelector, _resultSelector, BufferReason);

    /// <summary>Gets why this aggregate, split over tasks, keeps the one-phase plan, or null when it runs in two phases (docs/parallelism.md).</summary>
    public string? TwoPhaseReason(QueryOptions options)
    {
        if (_keySelector is null)
        {
            return "the aggregate has no key";
        }

        CompileKernels();
        _unused ??= _createPlan();
        return Parallel.TwoPhase.TwoPhaseAggregation.WhyNot(options, _window, typeof(TKey), _unused.Columns);
    }

    /// <summary>Gets why this aggregate, split in one phase over several source tasks, takes its events in (start, source task) order, or null when it takes them as they come.</summary>
    public string? OrderedInputReason(QueryOptions options)
    {
        if (!options.UnorderedTaskInput)
        {
            return "switched off";
        }

        if (_keySelector is null)
        {
            return "the aggregate has no key";
        }

        CompileKernels();
        return Parallel.TwoPhase.TwoPhaseAggregation.WhyOrdered(_window, typeof(TKey), (_unused ??= _createPlan()).Columns);
    }

    /// <summary>Compiles the key kernel and builds the first operator's aggregate plan (its columns' kernels and the result kernel), once.</summary>
    public void CompileKernels()
    {
        if (_compiled)
        {
            return;
        }

        _keyKernel = _keySelector is null ? null : ColumnKernel.Compile<T, TKey>(_keySelector, _compiler);
        _unused = _createPlan();
        _compiled = true;
    }

    public override void Connect(IStreamObserver<TResult> downstream, QueryContext context)
    {
        CompileKernels(); // a no-op after the compiler's last stage
        bool twoPhase = context.ParallelNodes?.Contains(this) == true && TwoPhaseReason(context.Options) is null;
        // The step over this aggregate's results that also runs on each task, before the merge (q5's per-window maximum).
        var step = context.TaskSteps is { } steps && steps.TryGetValue(this, out var found) ? (Parallel.ITaskLocalStep<TResult>)found : null;
        Func<IStreamObserver<TResult>, QueryContext, IStreamObserver<T>> createOperator = step is null
            ? CreateOperator
            : (output, taskContext) => CreateOperator(step.CreateTaskStep(output, taskContext), taskContext);
        if (context.ForwardNodes is { } forwardNodes && forwardNodes.TryGetValue(this, out var forward) && context.ParallelHost is null)
        {
            // Keyed by the key the partitions are partitioned by: each task reads its own partitions and aggregates their keys
            // (a forward exchange, one phase: nothing to pre-aggregate for), each partition's keys checked on its source task.
            var own = ((Parallel.IUnionSplittable<T>)_source).SplitByUnionInput()!;
            _ = new Parallel.KeyedParallelRun<T, TKey, TResult>(own, forward, _keyKernel!, createOperator, downstream, context);
            return;
        }

        if (context.SourceSplitNodes?.Contains(this) == true)
        {
            // Keyed over a union of partitions (maybe through filters and projections, which each partition then runs):
            // one source task per group of partitions, each hashing into every task.
            var partitions = ((Parallel.IUnionSplittable<T>)_source).SplitByUnionInput()!;
            if (context.ParallelHost is { } host)
            {
                host.Connect<T, TKey, TResult>(partitions, partitioned: true, _keyKernel!, createOperator, Parallel.ParallelPlanner.CrossingOf(this, sourcesSplit: true), downstream, context);
                return;
            }

            ConnectParallel(partitions, partitioned: true, twoPhase, step, downstream, context);
            return;
        }

        if (context.ParallelNodes?.Contains(this) == true)
        {
            if (context.ParallelHost is { } host)
            {
                // The tasks run elsewhere (another machine's silo); the host connects them (docs/cluster.md, Milestone 2).
                host.Connect<T, TKey, TResult>([_source], partitioned: false, _keyKernel!, createOperator, Parallel.ParallelPlanner.CrossingOf(this, sourcesSplit: false), downstream, context);
                return;
            }

            // A replayed array in start order (checked here, once per run): its chunks dealt out to P source tasks, read as P
            // partitions would be. Not in a job (its checkpoint lists the array as one source).
            int parallelism = Math.Min(context.Options.Parallelism, context.Options.KeyGroups);
            if (context.SplitArrays && _source is Parallel.IRangeSplittable<T> splittable
                && splittable.SplitIntoRanges(parallelism, Parallel.ParallelPlanner.ArrayChunk(context.Options.BatchSize)) is { } ranges)
            {
                ConnectParallel(ranges, partitioned: true, twoPhase, step, downstream, context);
                return;
            }

            // Keyed and run on several tasks: the input feeds a hash exchange, the tasks a merge (docs/parallelism.md).
            ConnectParallel([_source], partitioned: false, twoPhase, step, downstream, context);
            return;
        }

        context.Wire(_source, CreateOperator(downstream, context));
    }

    IStreamObserver<T> Parallel.IBroadcastSmallSide<T, TResult>.CreateOperator(IStreamObserver<TResult> downstream, QueryContext context) => CreateOperator(downstream, context);

    /// <summary>
    /// Runs this keyed aggregate on P tasks behind a broadcast exchange (docs/parallelism.md, "The broadcast exchange"): one source task
    /// reads the input and feeds the hash exchange (or the two-phase local step) and the small side (<paramref name="small"/>, parallelism
    /// 1's whole-window operator), whose rows go to every task; each task joins its results with them (<paramref name="join"/>), and the
    /// merge takes ties from the highest task first. The join's checkpoint section stays where parallelism 1 has it (before this aggregate).
    /// </summary>
    public void ConnectBroadcast<TRight, TOut>(Parallel.IBroadcastJoin<TResult, TRight, TOut> join, PhysicalStream<TRight> small, IStreamObserver<TOut> downstream, QueryContext context)
    {
        if (context.KeyedState is not null || context.ParallelHost is not null)
        {
            throw new InvalidOperationException("A broadcast exchange runs with the heap state backend on this process's threads only (the planner plans none otherwise).");
        }

        CompileKernels();
        var side = new Parallel.BroadcastSide<T, TResult, TRight, TOut>(join, (Parallel.IBroadcastSmallSide<T, TRight>)small);
        context.Checkpointed.Add(side.JoinPart); // where parallelism 1's join is: before the aggregate
        if (TwoPhaseReason(context.Options) is null)
        {
            var words = Parallel.TwoPhase.PartialWords.TypeFor(Parallel.TwoPhase.TwoPhaseAggregation.Words((_unused ??= _createPlan()).Columns));
            typeof(WindowAggregateStream<T, TKey, TResult>)
                .GetMethod(nameof(ConnectTwoPhaseBroadcast), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!
                .MakeGenericMethod(words, typeof(TRight), typeof(TOut))
                .Invoke(this, System.Reflection.BindingFlags.DoNotWrapExceptions, binder: null, [side, downstream, context], culture: null);
            return;
        }

        _ = new Parallel.KeyedParallelRun<T, TKey, TOut>(_source, _keyKernel!, (output, taskContext) => CreateOperator(side.TaskLeft(output, taskContext), taskContext), downstream, context, side);
    }

    /// <summary>As <see cref="ConnectBroadcast{TRight, TOut}"/>, in two phases (partial groups of <typeparamref name="TWords"/> words cross the hash exchange).</summary>
    private void ConnectTwoPhaseBroadcast<TWords, TRight, TOut>(Parallel.BroadcastSide<T, TResult, TRight, TOut> side, IStreamObserver<TOut> downstream, QueryContext context)
        where TWords : struct
    {
        _ = new Parallel.TwoPhase.TwoPhaseParallelRun<T, TKey, TWords, TOut>(
            [_source], partitioned: false, CreateLocalOperator<TWords>, (output, taskContext) => CreateMergeOperator<TWords>(side.TaskLeft(output, taskContext), taskContext), downstream, context, side);
    }

    /// <summary>
    /// Runs the aggregate on several tasks: events cross the hash exchange, or (two-phase) each source task's partial groups do;
    /// with a <paramref name="step"/>, each task runs it over its results before they go to the merge.
    /// </summary>
    private void ConnectParallel(IReadOnlyList<PhysicalStream<T>> inputs, bool partitioned, bool twoPhase, Parallel.ITaskLocalStep<TResult>? step, IStreamObserver<TResult> downstream, QueryContext context)
    {
        if (twoPhase)
        {
            // The partials are as wide as this plan's accumulators (a count: one word), chosen once per run.
            var words = Parallel.TwoPhase.PartialWords.TypeFor(Parallel.TwoPhase.TwoPhaseAggregation.Words((_unused ??= _createPlan()).Columns));
            typeof(WindowAggregateStream<T, TKey, TResult>)
                .GetMethod(nameof(ConnectTwoPhase), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!
                .MakeGenericMethod(words)
                .Invoke(this, System.Reflection.BindingFlags.DoNotWrapExceptions, binder: null, [inputs, partitioned, step, downstream, context], culture: null);
            return;
        }

        Func<IStreamObserver<TResult>, QueryContext, IStreamObserver<T>> createOperator = step is null
            ? CreateOperator
            : (output, taskContext) => CreateOperator(step.CreateTaskStep(output, taskContext), taskContext);
        if (partitioned)
        {
            bool ordered = OrderedInputReason(context.Options) is not null;
            _ = new Parallel.KeyedParallelRun<T, TKey, TResult>(inputs, _keyKernel!, createOperator, ordered, downstream, context);
        }
        else
        {
            _ = new Parallel.KeyedParallelRun<T, TKey, TResult>(inputs[0], _keyKernel!, createOperator, downstream, context);
        }
    }

    /// <summary>Runs the aggregate in two phases, with partial groups of <typeparamref name="TWords"/> words crossing the exchange.</summary>
    private void ConnectTwoPhase<TWords>(IReadOnlyList<PhysicalStream<T>> inputs, bool partitioned, Parallel.ITaskLocalStep<TResult>? step, IStreamObserver<TResult> downstream, QueryContext context)
        where TWords : struct
    {
        Func<IStreamObserver<TResult>, QueryContext, IStreamObserver<Parallel.TwoPhase.PartialGroup<TKey, TWords>>> createMerge = step is null
            ? CreateMergeOperator<TWords>
            : (output, taskContext) => CreateMergeOperator<TWords>(step.CreateTaskStep(output, taskContext), taskContext);
        _ = new Parallel.TwoPhase.TwoPhaseParallelRun<T, TKey, TWords, TResult>(inputs, partitioned, CreateLocalOperator<TWords>, createMerge, downstream, context);
    }

    /// <summary>The first phase of a two-phase aggregate, on a source task: pre-aggregates per (pane, key) with its own columns.</summary>
    private IStreamObserver<T> CreateLocalOperator<TWords>(IStreamObserver<Parallel.TwoPhase.PartialGroup<TKey, TWords>> downstream, QueryContext context)
        where TWords : struct
    {
        CompileKernels();
        var plan = Parallel.TwoPhase.LocalAggregateOperator<T, TKey, TWords>.PlanOf(_createPlan());
        return new Parallel.TwoPhase.LocalAggregateOperator<T, TKey, TWords>(downstream, context, _window, _keyKernel!, plan, _resultSelector.ToString());
    }

    /// <summary>The second phase of a two-phase aggregate, on a task: parallelism 1's window operator, fed partial groups that it merges.</summary>
    private IStreamObserver<Parallel.TwoPhase.PartialGroup<TKey, TWords>> CreateMergeOperator<TWords>(IStreamObserver<TResult> downstream, QueryContext context)
        where TWords : struct
    {
        CompileKernels();
        var plan = _unused ?? _createPlan();
        _unused = null;
        var merge = Parallel.TwoPhase.PartialMergeColumn<T, TKey, TWords>.PlanOf(plan);
        if (context.KeyedState is { } stores)
        {
            // The merged groups are the task's keyed state: spilled as parallelism 1's would be.
            return new SpilledFixedWindowAggregateOperator<Parallel.TwoPhase.PartialGroup<TKey, TWords>, TKey, TResult>(
                downstream, context, _window, Parallel.TwoPhase.PartialGroup<TKey, TWords>.KeyKernel, merge, _resultSelector.ToString(), stores);
        }

        return new FixedWindowAggregateOperator<Parallel.TwoPhase.PartialGroup<TKey, TWords>, TKey, TResult>(
            downstream, context, _window, Parallel.TwoPhase.PartialGroup<TKey, TWords>.KeyKernel, merge, _resultSelector.ToString());
    }

    /// <summary>Builds this aggregate's operator (with its own aggregate state) in <paramref name="context"/>, without its input.</summary>
    internal IStreamObserver<T> CreateOperator(IStreamObserver<TResult> downstream, QueryContext context)
    {
        CompileKernels();
        var plan = _unused ?? _createPlan(); // the first operator takes the plan compiled by the last stage; others build their own (cache hits)
        _unused = null;
        string description = _resultSelector.ToString();
        if (_keyKernel is not null && context.KeyedState is { } stores)
        {
            // The state backend is chosen here, once per operator: the heap operators below stay as they are (no call through the seam).
            return _window.Kind == WindowKind.Session
                ? new SpilledSessionWindowAggregateOperator<T, TKey, TResult>(downstream, context, _window, _keyKernel, plan, description, stores)
                : new SpilledFixedWindowAggregateOperator<T, TKey, TResult>(downstream, context, _window, _keyKernel, plan, description, stores);
        }

        return _window.Kind == WindowKind.Session
            ? new SessionWindowAggregateOperator<T, TKey, TResult>(downstream, context, _window, _keyKernel, plan, description)
            : new FixedWindowAggregateOperator<T, TKey, TResult>(downstream, context, _window, _keyKernel, plan, description);
    }
}

/// <summary>A physical node that may have picked the buffering (non-incremental) path; the plan shows why.</summary>
internal interface IBufferingNode
{
    string? BufferReason { get; }
}
