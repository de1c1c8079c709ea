using System.Diagnostics;
using LinqStream.Parallel;
using LinqStream.Query;
using LinqStream.Runtime;
using LinqStream.Runtime.Checkpoints;

namespace LinqStream;

/// <summary>
/// A job whose tasks each write to a sink of their own, with no merge in front of them (as Flink's parallel sink subtasks): the
/// query's partitions are read by <see cref="Tasks"/> tasks, each on its own thread, and task <c>i</c> writes its results to the
/// sink the factory made for <c>i</c>. Made by <see cref="QStream.ToParallelSinkJob{T}"/>.
/// </summary>
/// <typeparam name="T">The result type.</typeparam>
/// <remarks>
/// <para>
/// For a query that is a union of partitions (<c>QStream.From(partitions, ...)</c> or <c>Merge</c> of several sources) with only
/// filters and projections after it: each task gets a contiguous group of the partitions, runs the filters and projections on
/// each, unions them in (start, partition) order and writes to its sink. Task <c>i</c>'s output is a function of its partitions
/// alone, the same in every run; the tasks' outputs together are the query's results. Any other query runs on one task (with
/// one sink, made for index 0) and <see cref="JobResult.Warnings"/> says why; with <see cref="QueryOptions.Strict"/> it throws instead.
/// </para>
/// <para>
/// Checkpoints: every task writes its sources' positions and its union at a step boundary of its own, prepares its sink's
/// commit, and waits; when every task has, the job saves the checkpoint and every task commits its sink. So with sources that
/// replay and sinks that commit with checkpoints the job is exactly-once per sink. A checkpoint restores only at the same number
/// of tasks (each sink's committed state belongs to its task's partitions); another number is refused, naming both.
/// </para>
/// <para>
/// For a keyed query (a keyed window aggregate at the query's root) at parallelism P &gt; 1: the aggregate runs on P tasks as in
/// <c>ToJob</c> (source tasks, hash exchange by key group, two phases where exact), and task <c>i</c>'s results, those of the keys
/// it owns in parallelism 1's order, go to sink <c>i</c> with no merge in front. Checkpoints are aligned barriers that every sink
/// holds until the job has saved the key groups, the parts below the aggregate and every sink's prepared state; restore only at
/// the same P (docs/parallelism.md, "A keyed query with a sink per task").
/// </para>
/// </remarks>
public sealed class ParallelSinkJob<T> : IAsyncDisposable
{
    /// <summary>How long the job waits at most between two looks at its tasks (a task whose input ended wakes it at once).</summary>
    private static readonly TimeSpan Backstop = TimeSpan.FromMilliseconds(20);
    private readonly SinkTaskRun<T>[] _tasks;
    private readonly ITaskOutputs<T>? _keyed; // a keyed query: its split aggregate's tasks, each with a sink of its own
    private readonly KeyedSinkTaskRun<T>[] _keyedSinks = [];
    private readonly EventsSinceCheckpoint? _eventsRead; // CheckpointEveryEvents: the (source or sink) tasks report what they have read
    private readonly JobOptions _options;
    private readonly string _fingerprint;
    private readonly TimeProvider _clock;
    private readonly string? _oneTaskReason;
    private readonly List<TimeSpan> _alignments = [];
    private readonly List<TimeSpan> _answers = [];
    private readonly List<TimeSpan> _reached = [];
    private readonly List<BarrierTimeline> _timelines = [];
    private long _checkpointId;
    private int _started;
    private int _due;
    private volatile TaskCompletionSource _dueWake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile TaskCompletionSource _answerWake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal ParallelSinkJob(CompiledQuery<T> compiled, Func<int, EventSink<T>> sinkPerTask, JobOptions options)
    {
        if (options.DeadLetters is not null)
        {
            throw new NotSupportedException("A job with a sink per task does not take JobOptions.DeadLetters yet (one committed dead-letter sink for several tasks); set QueryOptions.DeadLetters, or use ToJob with one sink.");
        }

        _options = options;
        int parallelism = options.Parallelism ?? compiled.Options.Parallelism;
        var queryOptions = compiled.Options with
        {
            Parallelism = 1, // each task runs its part of the plan on its own thread, as a query at parallelism 1
            DeadLetters = compiled.Options.DeadLetters is { } letters ? new LockedDeadLetters(letters) : null,
            Progress = null,
        };
        _clock = queryOptions.TimeProvider;
        _fingerprint = CheckpointFormat.Fingerprint(compiled.PhysicalPlan + "\n(a sink per task)", typeof(T));
        if (parallelism > 1 && compiled.Root is IKeyedAggregateNode { KeyDescription: not null })
        {
            // A keyed query (a keyed window aggregate at the root): the aggregate's P tasks each write their results to a sink
            // of their own, with no merge in front (docs/parallelism.md, "One sink per task: a keyed query").
            var keyedOptions = compiled.Options with { Parallelism = parallelism, Progress = null };
            var plan = ParallelPlanner.Plan(compiled.Root, keyedOptions) with { SplitArrays = false };
            if (plan.Nodes?.Contains(compiled.Root) == true)
            {
                var execution = QueryExecution.Create(compiled.Root, _ => new NoDownstream(), keyedOptions, parallel: plan, outputPerTask: true);
                _keyed = execution.Context.Operators.OfType<ITaskOutputs<T>>().Single();
                var outputs = _keyed.Outputs;
                _keyedSinks = new KeyedSinkTaskRun<T>[outputs.Count];
                for (int t = 0; t < outputs.Count; t++)
                {
                    var sink = sinkPerTask(t) ?? throw new InvalidOperationException($"The sink factory returned null for task {t}.");
                    _keyedSinks[t] = new KeyedSinkTaskRun<T>(t, outputs[t], sink, () => _answerWake.TrySetResult());
                }

                // The source tasks say after each step how much they have read; the one whose step makes a checkpoint due wakes the loop.
                if ((_eventsRead = NewEventsRead(options)) is { } keyedRead)
                {
                    _keyed.SourceStepped = (source, events) => keyedRead.Stepped(0, source, events);
                }

                _tasks = [];
                (Guarantee, GuaranteeReason) = Decide();
                return;
            }
        }

        IReadOnlyList<PhysicalStream<T>> inputs;
        if (ParallelPlanner.WhyNotSplitUnion(compiled.Root, minimumInputs: 1) is { } why)
        {
            if (compiled.Options.Strict && parallelism > 1)
            {
                throw new NotSupportedException($"A sink per task needs a union of partitions with only filters and projections after it; here {why}. Use ToJob with one sink.");
            }

            _oneTaskReason = $"The job runs on one task with one sink (made for index 0): {why}.";
            inputs = [compiled.Root];
            parallelism = 1;
        }
        else
        {
            inputs = ((IUnionSplittable<T>)compiled.Root).SplitByUnionInput()!;
        }

        int tasks = Math.Min(parallelism, inputs.Count);
        // Each task says after each step how much its sources have read; the one whose step makes a checkpoint due wakes the loop.
        var read = _eventsRead = NewEventsRead(options);
        _tasks = new SinkTaskRun<T>[tasks];
        for (int t = 0; t < tasks; t++)
        {
            var (first, end) = KeyGroups.RangeOf(t, inputs.Count, tasks);
            var sink = sinkPerTask(t) ?? throw new InvalidOperationException($"The sink factory returned null for task {t}.");
            int task = t;
            Action<long>? stepped = read is null ? null : events => read.Stepped(0, task, events);
            _tasks[t] = new SinkTaskRun<T>(t, [.. inputs.Skip(first).Take(end - first)], sink, queryOptions, stepped, () => _dueWake.TrySetResult(), () => _answerWake.TrySetResult());
        }

        (Guarantee, GuaranteeReason) = Decide();
    }

    /// <summary>Gets the number of tasks, each with its own sink (the factory was called for 0 to <c>Tasks - 1</c>).</summary>
    public int Tasks => _keyed is null ? _tasks.Length : _keyedSinks.Length;

    /// <summary>Gets what the job promises about each sink's output across a crash.</summary>
    public DeliveryGuarantee Guarantee { get; }

    /// <summary>Gets why the guarantee is what it is, naming the source or sink that limits it.</summary>
    public string GuaranteeReason { get; }

    /// <summary>
    /// Gets, per checkpoint of the last run, the time from the request to the last task's answer (its parts written and its sink
    /// prepared): the alignment (<see cref="JobResult.BarrierAlignmentP99"/>) plus the slowest task's snapshot (diagnostics, benchmarks).
    /// </summary>
    internal IReadOnlyList<TimeSpan> AnswerTimes => _answers;

    /// <summary>Gets, per checkpoint of the last run, its alignment: for tasks that read their own partitions, from the request
    /// until the last task had reached it; for a keyed query's tasks, Flink's alignment (the longest first-to-last barrier time at an
    /// aggregate task over its source tasks' channels; <see cref="BarrierTimeline"/>).</summary>
    internal IReadOnlyList<TimeSpan> Alignments => _alignments;

    /// <summary>Gets, per checkpoint of a keyed query's last run, the time from the request until the barrier had come through the
    /// last task to its sink (the start delay, the alignment and what the channels held ahead of the barrier).</summary>
    internal IReadOnlyList<TimeSpan> ReachedTimes => _reached;

    /// <summary>Gets, per checkpoint of a keyed query's last run, when its barrier passed each point of the run (diagnostics).</summary>
    internal IReadOnlyList<BarrierTimeline> Timelines => _timelines;

    /// <summary>Gets the id of the last checkpoint saved or restored; 0 before any.</summary>
    public long LastCheckpointId => Interlocked.Read(ref _checkpointId);

    /// <summary>Runs every task to the end of its partitions (or until <paramref name="cancellationToken"/> fires), restoring first when there is a checkpoint.</summary>
    /// <param name="cancellationToken">Stops the job; the sinks are not completed, so a later run goes on from the last checkpoint.</param>
    /// <returns>The counts and warnings of this run (<see cref="JobResult.Parallelism"/> is the number of tasks).</returns>
    /// <exception cref="QueryExecutionException">A task failed (a source, a lambda, or its sink); the message says where.</exception>
    /// <exception cref="InvalidDataException">The checkpoint belongs to another query, or to this query with another number of tasks.</exception>
    public Task<JobResult> RunAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("A job runs once; make a new job to run again. It will restore from the checkpoint store.");
        }

        return Task.Run(() => _keyed is null ? RunCoreAsync(cancellationToken) : RunKeyedAsync(_keyed, cancellationToken), CancellationToken.None);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        foreach (var task in _tasks)
        {
            task.Stop();
        }

        _keyed?.Stop();

        return ValueTask.CompletedTask;
    }

    private async Task<JobResult> RunCoreAsync(CancellationToken cancellationToken)
    {
        var warnings = new List<string>();
        if (_oneTaskReason is not null)
        {
            warnings.Add(_oneTaskReason);
        }

        using var storeLock = _options.Checkpoints?.Acquire($"the job writing to {_tasks.Length} sinks ({_tasks[0].Sink.Name}, ...)", warnings.Add);
        var restored = await CheckpointLoading.LoadAsync(_options, CheckFingerprint, warnings, cancellationToken).ConfigureAwait(false);
        var sinkStates = new byte[]?[_tasks.Length];
        if (restored is not null)
        {
            sinkStates = Restore(restored);
            Interlocked.Exchange(ref _checkpointId, restored.Id);
        }

        for (int t = 0; t < _tasks.Length; t++)
        {
            await _tasks[t].Sink.OpenAsync(sinkStates[t], cancellationToken).ConfigureAwait(false);
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var threads = new Task[_tasks.Length];
        for (int t = 0; t < _tasks.Length; t++)
        {
            var task = _tasks[t];
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var thread = new Thread(() =>
            {
                try
                {
                    task.RunAsync(stop.Token).GetAwaiter().GetResult();
                    done.TrySetResult();
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    done.TrySetCanceled();
                }
                catch (Exception ex)
                {
                    done.TrySetException(ex);
                }
            })
            { IsBackground = true, Name = $"LinqStream sink task {t + 1}/{_tasks.Length}" };
            thread.Start();
            threads[t] = done.Task;
        }

        long checkpoints = 0, id = Interlocked.Read(ref _checkpointId);
        long timeAtCheckpoint = _clock.GetTimestamp();
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Throw(threads);
                if (Array.TrueForAll(_tasks, t => t.InputEnded))
                {
                    break;
                }

                if (_dueWake.Task.IsCompleted)
                {
                    _dueWake = new(TaskCreationOptions.RunContinuationsAsynchronously); // before the flag is read: a task's signal is never lost
                }

                var wait = _options.CheckpointInterval is { } interval ? interval - _clock.GetElapsedTime(timeAtCheckpoint) : Backstop;
                bool due = Interlocked.Exchange(ref _due, 0) == 1 || wait <= TimeSpan.Zero;
                if (due && _options.Checkpoints is { } store)
                {
                    RearmEventsRead();
                    checkpoints += await CheckpointAsync(++id, store, threads, cancellationToken).ConfigureAwait(false);
                    timeAtCheckpoint = _clock.GetTimestamp();
                    continue;
                }

                // Until a task's input ends or fails, a task says a checkpoint is due, or the interval passes (a backstop otherwise).
                await Task.WhenAny(Task.WhenAny(threads), _dueWake.Task, Task.Delay(wait > TimeSpan.Zero && wait < Backstop ? wait : Backstop, _clock, cancellationToken)).ConfigureAwait(false);
            }

            foreach (var task in _tasks)
            {
                task.Finish();
            }

            await Task.WhenAll(threads).ConfigureAwait(false);
        }
        catch
        {
            foreach (var task in _tasks)
            {
                task.Stop();
                task.Decide(false);
            }

            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAny(Task.WhenAll(threads), Task.Delay(TimeSpan.FromSeconds(30), CancellationToken.None)).ConfigureAwait(false);
            throw;
        }

        var late = _tasks.Select(t => t.LateEvents).ToArray();
        return new JobResult(_tasks.Sum(t => t.Results), 0, checkpoints, restored?.Id, warnings)
        {
            LateEvents = late.Sum(l => l.Late),
            LateEventsDropped = late.Sum(l => l.Dropped),
            LateEventsAdjusted = late.Sum(l => l.Adjusted),
            Parallelism = _tasks.Length,
            BarrierAlignmentP99 = _alignments.Count == 0 ? null : _alignments.Order().ElementAt(Math.Max(0, (int)Math.Ceiling(_alignments.Count * 0.99) - 1)),
        };
    }

    /// <summary>
    /// A keyed query: the split aggregate's source tasks and tasks run as in <c>ToJob</c> at this parallelism, and each task's
    /// output goes to its own sink on a thread of its own. Checkpoints are aligned barriers: each source task writes its parts
    /// and sends barrier n; each task, aligned, writes its key groups and passes n on; each sink, at n, prepares its commit and
    /// holds n. When every sink holds n the job saves the file (the key groups, the parts below the aggregate, every sink's
    /// prepared state) and every sink commits and goes on. The tasks keep working meanwhile, up to what their output channels hold.
    /// </summary>
    private async Task<JobResult> RunKeyedAsync(ITaskOutputs<T> run, CancellationToken cancellationToken)
    {
        var warnings = new List<string>();
        var sinks = _keyedSinks;
        using var storeLock = _options.Checkpoints?.Acquire($"the job writing to {sinks.Length} sinks ({sinks[0].Sink.Name}, ...)", warnings.Add);
        var restored = await CheckpointLoading.LoadAsync(_options, CheckFingerprint, warnings, cancellationToken).ConfigureAwait(false);
        var sinkStates = new byte[]?[sinks.Length];
        if (restored is not null)
        {
            sinkStates = RestoreKeyed(run, restored);
            Interlocked.Exchange(ref _checkpointId, restored.Id);
        }

        for (int t = 0; t < sinks.Length; t++)
        {
            await sinks[t].Sink.OpenAsync(sinkStates[t], cancellationToken).ConfigureAwait(false);
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var threads = new Task[sinks.Length];
        for (int t = 0; t < sinks.Length; t++)
        {
            var sink = sinks[t];
            threads[t] = StartThread($"LinqStream sink {t + 1}/{sinks.Length}", () => sink.RunAsync(stop.Token), stop);
        }

        long checkpoints = 0, id = Interlocked.Read(ref _checkpointId);
        long timeAtCheckpoint = _clock.GetTimestamp();
        try
        {
            run.Start();
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Throw(threads);
                var wake = _answerWake;
                if (wake.Task.IsCompleted)
                {
                    _answerWake = wake = new(TaskCreationOptions.RunContinuationsAsynchronously); // before the look: an end is never missed
                }

                if (Array.TrueForAll(sinks, s => s.Ended))
                {
                    break;
                }

                if (_dueWake.Task.IsCompleted)
                {
                    _dueWake = new(TaskCreationOptions.RunContinuationsAsynchronously); // before the flag is read: a source task's signal is never lost
                }

                var wait = _options.CheckpointInterval is { } interval ? interval - _clock.GetElapsedTime(timeAtCheckpoint) : Backstop;
                bool due = Interlocked.Exchange(ref _due, 0) == 1 || wait <= TimeSpan.Zero;
                if (due && _options.Checkpoints is { } store)
                {
                    RearmEventsRead();
                    checkpoints += await CheckpointKeyedAsync(run, ++id, store, threads, cancellationToken).ConfigureAwait(false);
                    timeAtCheckpoint = _clock.GetTimestamp();
                    continue;
                }

                // Until a sink's task ends or fails, a source task says a checkpoint is due, or the interval passes (a backstop otherwise).
                await Task.WhenAny(Task.WhenAny(threads), wake.Task, _dueWake.Task, Task.Delay(wait > TimeSpan.Zero && wait < Backstop ? wait : Backstop, _clock, cancellationToken)).ConfigureAwait(false);
            }

            foreach (var sink in sinks)
            {
                sink.Finish();
            }

            await Task.WhenAll(threads).ConfigureAwait(false);
        }
        catch
        {
            run.Stop();
            foreach (var sink in sinks)
            {
                sink.Decide(false);
            }

            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAny(Task.WhenAll(threads), Task.Delay(TimeSpan.FromSeconds(30), CancellationToken.None)).ConfigureAwait(false);
            throw;
        }

        var late = run.LateEventCounts.ToArray();
        return new JobResult(sinks.Sum(s => s.Results), 0, checkpoints, restored?.Id, warnings)
        {
            LateEvents = late.Sum(l => l.Late),
            LateEventsDropped = late.Sum(l => l.Dropped),
            LateEventsAdjusted = late.Sum(l => l.Adjusted),
            Parallelism = sinks.Length,
            BarrierAlignmentP99 = _alignments.Count == 0 ? null : _alignments.Order().ElementAt(Math.Max(0, (int)Math.Ceiling(_alignments.Count * 0.99) - 1)),
        };
    }

    /// <summary>Runs <paramref name="body"/> on a thread of its own (a sink's loop blocks on its channel); the task ends with it.</summary>
    private static Task StartThread(string name, Func<Task> body, CancellationTokenSource stop)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                body().GetAwaiter().GetResult();
                done.TrySetResult();
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                done.TrySetCanceled();
            }
            catch (Exception ex)
            {
                done.TrySetException(ex);
            }
        })
        { IsBackground = true, Name = name };
        thread.Start();
        return done.Task;
    }

    /// <summary>Barrier <paramref name="id"/> through every task to every sink: saves the checkpoint and lets the sinks commit (or gives it up when the input ended first).</summary>
    private async Task<long> CheckpointKeyedAsync(ITaskOutputs<T> run, long id, CheckpointStore store, Task[] threads, CancellationToken cancellationToken)
    {
        var sinks = _keyedSinks;
        long asked = Stopwatch.GetTimestamp();
        run.RequestBarrier(id);
        var prepared = new (byte[] Sink, long ReachedAt)[sinks.Length];
        while (true)
        {
            var wake = _answerWake;
            if (wake.Task.IsCompleted)
            {
                _answerWake = wake = new(TaskCreationOptions.RunContinuationsAsynchronously); // before the look: an answer is never missed
            }

            int answered = 0, ended = 0;
            for (int t = 0; t < sinks.Length; t++)
            {
                if (sinks[t].SnapshotOf(id) is { } snapshot)
                {
                    prepared[t] = snapshot;
                    answered++;
                }
                else if (sinks[t].Ended)
                {
                    ended++;
                }
            }

            if (answered == sinks.Length)
            {
                break;
            }

            if (answered + ended == sinks.Length)
            {
                // The input ended before the barrier got through (every source task had completed): nothing to checkpoint.
                foreach (var sink in sinks)
                {
                    sink.Decide(false);
                }

                return 0;
            }

            Throw(threads);
            await Task.WhenAny(wake.Task, Task.WhenAny(threads), Task.Delay(Backstop, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }

        // Alignment as Flink's: the longest first-to-last barrier time at a task (the sinks have one input each); the time until the
        // barrier had come through the last task to its sink is kept apart (ReachedTimes).
        var reached = Stopwatch.GetElapsedTime(asked, Math.Max(asked, prepared.Max(p => p.ReachedAt)));
        var timeline = run.Timeline(id);
        if (timeline is not null)
        {
            for (int t = 0; t < prepared.Length; t++)
            {
                BarrierTimeline.Mark(timeline.MergeSeen, t, prepared[t].ReachedAt);
            }

            _timelines.Add(timeline);
        }

        _alignments.Add(timeline?.TaskAlignment ?? reached);
        _reached.Add(reached);
        _answers.Add(Stopwatch.GetElapsedTime(asked));
        var (aggregate, sources) = run.StateAtTaskBarriers();
        var sections = new List<(string Name, SectionBuffer Data)>
        {
            ("sink tasks", SectionBuffer.Wrap(BitConverter.GetBytes(sinks.Length))),
            ("aggregate: " + run.AggregateName, SectionBuffer.Wrap(aggregate)),
        };
        var names = run.SourcePartNames;
        for (int i = 0; i < sources.Length; i++)
        {
            sections.Add(($"source part {i}: {names[i]}", SectionBuffer.Wrap(sources[i])));
        }

        for (int t = 0; t < sinks.Length; t++)
        {
            sections.Add(($"task {t} sink", SectionBuffer.Wrap(prepared[t].Sink)));
        }

        long takenAt = _clock.GetUtcNow().UtcTicks;
        await store.SaveAsync(id, (stream, token) => CheckpointFormat.WriteAsync(stream, id, takenAt, _fingerprint, sections, token), cancellationToken).ConfigureAwait(false);
        Interlocked.Exchange(ref _checkpointId, id);
        foreach (var sink in sinks)
        {
            sink.Decide(true);
        }

        return 1;
    }

    /// <summary>Loads the key groups and the parts below the aggregate into the fresh tasks; returns each sink's committed state.</summary>
    private byte[]?[] RestoreKeyed(ITaskOutputs<T> run, CheckpointFormat.Snapshot snapshot)
    {
        var sections = snapshot.Sections;
        int next = 1;
        byte[] aggregate = Section("aggregate: " + run.AggregateName);
        var names = run.SourcePartNames;
        var sources = new byte[names.Count][];
        for (int i = 0; i < sources.Length; i++)
        {
            sources[i] = Section($"source part {i}: {names[i]}");
        }

        var sinks = new byte[]?[_keyedSinks.Length];
        for (int t = 0; t < sinks.Length; t++)
        {
            sinks[t] = Section($"task {t} sink");
        }

        run.Restore(aggregate, sources);
        return sinks;

        byte[] Section(string name)
        {
            if (next >= sections.Count || !string.Equals(sections[next].Name, name, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"Checkpoint {snapshot.Id} has '{(next < sections.Count ? sections[next].Name : "no more sections")}' where this job has '{name}'.");
            }

            return sections[next++].Data;
        }
    }

    /// <summary>A task that failed fails the job with its error (the first one).</summary>
    private static void Throw(Task[] threads)
    {
        foreach (var thread in threads)
        {
            if (thread.IsFaulted)
            {
                var error = thread.Exception!.InnerException!;
                throw error as QueryExecutionException ?? new QueryExecutionException(error.Message, error);
            }
        }
    }

    /// <summary>Asks every task for checkpoint <paramref name="id"/>, waits for all, saves it, and lets every task commit its sink.</summary>
    private async Task<long> CheckpointAsync(long id, CheckpointStore store, Task[] threads, CancellationToken cancellationToken)
    {
        long asked = Stopwatch.GetTimestamp();
        foreach (var task in _tasks)
        {
            task.Request(id);
        }

        // Wait for every task's answer, woken by each answer (no polling): a task answers between two of its steps.
        var snapshots = new (byte[][] Parts, byte[] Sink, long ReachedAt)[_tasks.Length];
        int answered = 0;
        while (true)
        {
            var wake = _answerWake;
            if (wake.Task.IsCompleted)
            {
                _answerWake = wake = new(TaskCreationOptions.RunContinuationsAsynchronously); // before the look: an answer is never missed
            }

            for (; answered < _tasks.Length && _tasks[answered].SnapshotOf(id) is { } snapshot; answered++)
            {
                snapshots[answered] = snapshot;
            }

            if (answered == _tasks.Length)
            {
                break;
            }

            Throw(threads);
            await Task.WhenAny(wake.Task, Task.WhenAny(threads), Task.Delay(Backstop, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }

        // Alignment: from the request until the last task had stopped at it (as a task's last input barrier in Flink); the
        // time to write the parts and prepare the sinks comes on top (AnswerTimes).
        long lastReached = snapshots.Max(s => s.ReachedAt);
        _alignments.Add(Stopwatch.GetElapsedTime(asked, Math.Max(asked, lastReached)));
        _answers.Add(Stopwatch.GetElapsedTime(asked));
        var sections = new List<(string Name, SectionBuffer Data)> { ("sink tasks", SectionBuffer.Wrap(BitConverter.GetBytes(_tasks.Length))) };
        for (int t = 0; t < _tasks.Length; t++)
        {
            var names = _tasks[t].Parts;
            for (int k = 0; k < names.Count; k++)
            {
                sections.Add(($"task {t} part {k}: {names[k].CheckpointName}", SectionBuffer.Wrap(snapshots[t].Parts[k])));
            }

            sections.Add(($"task {t} sink", SectionBuffer.Wrap(snapshots[t].Sink)));
        }

        long takenAt = _clock.GetUtcNow().UtcTicks;
        await store.SaveAsync(id, (stream, token) => CheckpointFormat.WriteAsync(stream, id, takenAt, _fingerprint, sections, token), cancellationToken).ConfigureAwait(false);
        Interlocked.Exchange(ref _checkpointId, id);
        foreach (var task in _tasks)
        {
            task.Decide(true);
        }

        return 1;
    }

    /// <summary>The counter of <see cref="JobOptions.CheckpointEveryEvents"/>, armed at 0, or null without them. (The tasks report their sources'
    /// counts, which a restore sets to the checkpoint's: after a restore the first checkpoint comes at the first report, as it always did.)</summary>
    private EventsSinceCheckpoint? NewEventsRead(JobOptions options)
    {
        if (options.CheckpointEveryEvents is not { } every || options.Checkpoints is null)
        {
            return null;
        }

        var read = new EventsSinceCheckpoint(every, CheckpointDue);
        read.Arm(0);
        return read;
    }

    /// <summary>A checkpoint is requested now: the next is due when the tasks have read <see cref="JobOptions.CheckpointEveryEvents"/> more than
    /// they have reported so far. The job's due flag was taken just before; a report that crossed the old mark since then is at most one early checkpoint.</summary>
    private void RearmEventsRead() => _eventsRead?.Arm(_eventsRead.Read);

    /// <summary>The tasks have read <see cref="JobOptions.CheckpointEveryEvents"/> since the last request (on the reporting task's thread).</summary>
    private void CheckpointDue()
    {
        if (Interlocked.Exchange(ref _due, 1) == 0)
        {
            _dueWake.TrySetResult();
        }
    }

    private void CheckFingerprint(CheckpointFormat.Snapshot snapshot, string origin)
    {
        if (!string.Equals(snapshot.Fingerprint, _fingerprint, StringComparison.Ordinal))
        {
            throw new InvalidDataException(
                $"{origin} (checkpoint {snapshot.Id}) was taken by another query, or by this query with one sink (plan fingerprint {snapshot.Fingerprint}, this job's is {_fingerprint}). " +
                "Use a new checkpoint directory, or run the job the checkpoint came from.");
        }

        int tasks = snapshot.Sections is [("sink tasks", { Length: 4 } count), ..] ? BitConverter.ToInt32(count) : -1;
        if (tasks != Tasks)
        {
            throw new InvalidDataException(
                $"{origin} (checkpoint {snapshot.Id}) was taken with {tasks} sink tasks; this job has {Tasks}. Each sink's committed output belongs to its task's partitions (or key groups), " +
                $"so a job with a sink per task restores only at the same number of tasks: run it with Parallelism = {tasks}.");
        }
    }

    /// <summary>Loads every task's parts; returns each sink's committed state.</summary>
    private byte[]?[] Restore(CheckpointFormat.Snapshot snapshot)
    {
        var sections = snapshot.Sections;
        int next = 1;
        var sinks = new byte[]?[_tasks.Length];
        for (int t = 0; t < _tasks.Length; t++)
        {
            var names = _tasks[t].Parts;
            var parts = new byte[names.Count][];
            for (int k = 0; k < names.Count; k++)
            {
                parts[k] = Section($"task {t} part {k}: {names[k].CheckpointName}");
            }

            _tasks[t].Restore(parts);
            sinks[t] = Section($"task {t} sink");
        }

        return sinks;

        byte[] Section(string name)
        {
            if (next >= sections.Count || !string.Equals(sections[next].Name, name, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"Checkpoint {snapshot.Id} has '{(next < sections.Count ? sections[next].Name : "no more sections")}' where this job has '{name}'.");
            }

            return sections[next++].Data;
        }
    }

    private (DeliveryGuarantee, string) Decide()
    {
        if (_keyed is not null)
        {
            if (!_keyed.CanReplay)
            {
                return (DeliveryGuarantee.AtMostOnce, $"Source '{_keyed.SourceNames}' cannot replay from a position, so events it produced after the last checkpoint are lost on restore.");
            }

            foreach (var task in _keyedSinks)
            {
                if (!task.Sink.IsTransactional)
                {
                    return (DeliveryGuarantee.AtLeastOnce, $"Sink '{task.Sink.Name}' of task {task.Index} does not commit with checkpoints, so results after the last checkpoint are written again on restore.");
                }
            }

            return (DeliveryGuarantee.ExactlyOnce, "Every source replays from its checkpointed position and every task's sink commits with checkpoints.");
        }

        foreach (var task in _tasks)
        {
            if (!task.CanReplay)
            {
                return (DeliveryGuarantee.AtMostOnce, $"Source '{task.SourcesThatCannotReplay.First()}' cannot replay from a position, so events it produced after the last checkpoint are lost on restore.");
            }

            if (!task.Sink.IsTransactional)
            {
                return (DeliveryGuarantee.AtLeastOnce, $"Sink '{task.Sink.Name}' of task {task.Index} does not commit with checkpoints, so results after the last checkpoint are written again on restore.");
            }
        }

        return (DeliveryGuarantee.ExactlyOnce, "Every source replays from its checkpointed position and every task's sink commits with checkpoints.");
    }

    /// <summary>What would follow a keyed query's aggregate: nothing does (each task's results go to its own sink), so nothing may arrive.</summary>
    private sealed class NoDownstream : IStreamObserver<T>
    {
        public void OnBatch(EventBatch<T> batch) => throw Unexpected();

        public void OnWatermark(long watermark) => throw Unexpected();

        public void OnCompleted() => throw Unexpected();

        public void OnError(Exception error) => throw Unexpected();

        private static InvalidOperationException Unexpected() =>
            new("A keyed job with a sink per task sends each task's results to its own sink; nothing goes past the aggregate.");
    }
}
