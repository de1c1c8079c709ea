namespace LinqStream;

/// <summary>Settings of one query run.</summary>
public sealed record QueryOptions
{
    /// <summary>The settings used when none are given.</summary>
    public static QueryOptions Default { get; } = new();

    /// <summary>Gets the number of events per batch.</summary>
    /// <value>The default value is 2,048 events; valid values are 1 to 1,048,576.</value>
    public int BatchSize
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 1 << 20);
            field = value;
        }
    } = 2048;

    /// <summary>Gets the clock used for processing-time work (idle live sources, periodic watermarks).</summary>
    /// <value>The default value is <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Gets a value indicating whether a slower fallback plan is an error instead of a note in the plan.</summary>
    /// <value>The default value is <see langword="false"/>; tests run strict.</value>
    public bool Strict { get; init; }

    /// <summary>Gets a value indicating whether filter and projection chains are fused into one kernel.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool Fuse { get; init; } = true;

    /// <summary>Gets where the running query reports its progress (events read, watermark, watermark lag), or <see langword="null"/> for no reports.</summary>
    /// <value>The default value is <see langword="null"/>.</value>
    /// <remarks>
    /// <see cref="IProgress{T}.Report"/> is called on the query's thread, at most every <see cref="ProgressInterval"/> (checked every few
    /// batches, never per event), and once more when the run ends, so keep it short: store the value, let another thread draw it.
    /// Reports arrive in order and their watermark never goes back. <see cref="Progress{T}"/> posts each report to the thread pool
    /// (when there is no synchronization context), where two reports can run out of order; implement <see cref="IProgress{T}"/>
    /// directly to keep the order. An exception thrown by <c>Report</c> stops the query and is thrown where one thrown by the
    /// observer's <c>OnNext</c> would be (from <c>Subscribe</c> or <c>ToListAsync</c> for replay sources). A query run as a job
    /// (<c>ToJob</c>, which steps the query itself) does not report progress yet.
    /// </remarks>
    public IProgress<QueryProgress>? Progress { get; init; }

    /// <summary>Gets the shortest time between two progress reports.</summary>
    /// <value>The default value is 250 ms; <see cref="TimeSpan.Zero"/> reports every few batches.</value>
    public TimeSpan ProgressInterval
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            field = value;
        }
    } = TimeSpan.FromMilliseconds(250);

    /// <summary>Gets where rejected records go: malformed input from a source, and events skipped under <see cref="ErrorPolicy.SkipAndDeadLetter"/>.</summary>
    /// <value>The default value is <see langword="null"/>: the first rejected record stops the query with an error that names its source, position and reason.</value>
    public IDeadLetterSink? DeadLetters { get; init; }

    /// <summary>Gets the number of tasks (threads) a keyed window aggregate of the query runs on.</summary>
    /// <value>The default value is 1 (the whole query on one thread); valid values are 1 to 1,024, at most <see cref="KeyGroups"/>.</value>
    /// <remarks>
    /// Above 1, the query is cut into stages at its keyed window aggregate: sources on one task, the aggregate on this many
    /// tasks (each owning a range of key groups), and the rest of the plan after an order-restoring merge; the results and
    /// their order are the same as at 1 (docs/parallelism.md). A query with no such aggregate runs at 1, and <c>Explain()</c>
    /// says why. Jobs (<c>ToJob</c>) run at it too (or at <see cref="JobOptions.Parallelism"/>), with aligned checkpoint barriers;
    /// a checkpoint restores at any parallelism.
    /// </remarks>
    public int Parallelism
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 1024);
            field = value;
        }
    } = 1;

    /// <summary>Gets the number of key groups keys are hashed into: the most tasks a keyed stage can use (Flink's max parallelism).</summary>
    /// <value>The default value is 128; valid values are 1 to 32,768.</value>
    /// <remarks>A key's group is fixed by a stable hash of the key (the same in every process), so it does not change with <see cref="Parallelism"/>.</remarks>
    public int KeyGroups
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 32768);
            field = value;
        }
    } = 128;

    /// <summary>
    /// Gets a value indicating whether a split keyed window aggregate whose aggregates merge exactly is aggregated in two phases
    /// (pre-aggregated on each source task, merged on the key's task; docs/parallelism.md). Internal: tests compare both plans.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    internal bool TwoPhaseAggregation { get; init; } = true;

    /// <summary>
    /// Gets a value indicating whether a split keyed window aggregate that keeps the one-phase plan takes its source tasks' events
    /// as they come (no ordering union on the task) when its answer does not depend on the order of a key's events (docs/parallelism.md).
    /// Internal: tests and benchmarks compare both.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    internal bool UnorderedTaskInput { get; init; } = true;

    /// <summary>
    /// Gets a value indicating whether, at parallelism above 1, a per-window maximum over the split aggregate's results (NEXMark
    /// q5's <c>WindowArgMax</c>) first keeps each task's events at the task's own maximum, on the task, before the merge
    /// (docs/parallelism.md). Internal: tests and benchmarks compare both plans.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    internal bool TaskLocalSteps { get; init; } = true;

    /// <summary>
    /// Gets a value indicating whether, at parallelism above 1, a keyed window aggregate whose input also feeds a whole-window
    /// aggregate joined to it on the window runs on P tasks behind a broadcast exchange (docs/parallelism.md, "The broadcast
    /// exchange"); when false the whole query runs on one task. Internal: tests and benchmarks compare both plans.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    internal bool BroadcastExchange { get; init; } = true;

    /// <summary>
    /// Gets a value indicating whether an aggregate task at a checkpoint barrier passes the barrier on before it writes its key
    /// groups (Flink's order; docs/parallelism.md, "Checkpoints across tasks"); otherwise after, as before issue #16's eighth part.
    /// Internal: benchmarks compare both in one run.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    internal bool BarrierBeforeSnapshot { get; init; } = true;

    /// <summary>
    /// Gets a value indicating whether a forward plan over replayed partitions runs source task t and task t on one thread (chained:
    /// the source task calls the task's operators with each batch, no channel between them; docs/parallelism.md, "Chained
    /// tasks"); otherwise each on its own thread with a channel between them. Internal: benchmarks compare both in one run.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    internal bool ChainForwardTasks { get; init; } = true;

    /// <summary>
    /// Gets whether a task that finds a channel empty (or full) spins briefly before it blocks: <see langword="null"/> decides per
    /// run (spin only when the run's threads that work per event fit on the machine's cores; docs/parallelism.md, "Waiting on a
    /// channel"). Internal: benchmarks compare both.
    /// </summary>
    /// <value>The default value is <see langword="null"/> (decided per run).</value>
    internal bool? SpinBeforeBlocking { get; init; }

    /// <summary>
    /// Gets a value indicating whether a job at parallelism above 1 runs its source tasks' and tasks' checkpoint code once before it
    /// starts (JIT, the state codec), so that the first barrier does not pay it on a task's thread (docs/parallelism.md, "The first
    /// barrier"). Internal: the benchmark compares both, each in a fresh process.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    internal bool WarmParallelCheckpoints { get; init; } = true;

    /// <summary>
    /// Gets how long, at parallelism above 1 with several source tasks, a source task that has sent checkpoint barrier n waits
    /// before its next step (docs/parallelism.md, "Checkpoints across tasks"): its barrier holds its channels anyway, so reading
    /// on would only take the CPU that the source tasks still before the barrier, the aggregate tasks and the merge need to get
    /// there. Internal: benchmarks compare the choices in one run.
    /// </summary>
    /// <value>The default value is <see cref="SourceBarrierWait.UntilThrough"/>.</value>
    internal SourceBarrierWait SourcesWaitAtBarrier { get; init; } = SourceBarrierWait.UntilThrough;

    /// <summary>Gets what happens when a query lambda throws for an event.</summary>
    /// <value>The default value is <see cref="ErrorPolicy.Fail"/>.</value>
    public ErrorPolicy OnError { get; init; } = ErrorPolicy.Fail;

    /// <summary>Gets which exceptions <see cref="ErrorPolicy.SkipAndDeadLetter"/> skips; any other stops the query as under <see cref="ErrorPolicy.Fail"/>.</summary>
    /// <value>The default value is <see langword="null"/>: every exception a skippable lambda throws is skipped.</value>
    /// <remarks>Asked only when a lambda has thrown, never per event. The linqstream CLI uses it to skip input values of the wrong kind as malformed lines.</remarks>
    public Func<Exception, bool>? SkipWhen { get; init; }

    /// <summary>
    /// Gets whether the logical passes that replace a whole sub-plan by a cheaper operator with the same answer run
    /// (<c>WindowMaxJoinToArgMax</c>, <c>ExpiryJoinToKeyedFold</c>); tests and benchmarks turn them off to compare both plans.
    /// </summary>
    internal bool RewriteSubPlans { get; init; } = true;

    /// <summary>Gets whether the query stops for <paramref name="error"/> (<see cref="OnError"/> and <see cref="SkipWhen"/>).</summary>
    internal bool FailsOn(Exception error) => OnError == ErrorPolicy.Fail || (SkipWhen is { } skip && !skip(error));
}

/// <summary>What a query does when one of its lambdas throws for an event.</summary>
public enum ErrorPolicy
{
    /// <summary>The query stops with a <see cref="QueryExecutionException"/> that names the operator, the expression and the event.</summary>
    Fail,

    /// <summary>
    /// The event is dropped and written to <see cref="QueryOptions.DeadLetters"/> with the operator, the expression and the exception;
    /// the query goes on. Applies to Where/Select chains, SelectMany, and window key selectors and aggregate inputs; a lambda of a
    /// join or a window's result selector still stops the query as with <see cref="Fail"/>.
    /// </summary>
    SkipAndDeadLetter,
}
