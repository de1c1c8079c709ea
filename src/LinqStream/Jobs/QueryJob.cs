using System.Collections.Concurrent;
using LinqStream.Parallel;
using LinqStream.Query;
using LinqStream.Runtime;
using LinqStream.Runtime.Checkpoints;
using LinqStream.Runtime.Egress;

namespace LinqStream;

/// <summary>
/// A query bound to a sink that runs as a restartable job: it takes checkpoints (every operator's state, every source's position,
/// the sink's commit state) and, when started again, goes on from the newest valid one, so the output is what one run without a
/// crash would have written.
/// </summary>
/// <typeparam name="T">The result type.</typeparam>
/// <remarks>
/// At parallelism 1 the query runs on one task; a checkpoint is taken between two steps, when every operator has finished with its
/// input, so the snapshot is consistent across the whole plan without stopping the sources (they keep reading ahead into bounded
/// buffers). At a higher parallelism (<see cref="JobOptions.Parallelism"/> or <see cref="QueryOptions.Parallelism"/>) a checkpoint
/// is an aligned barrier that flows with the data through the tasks' channels; keyed state is written per key group, so a
/// checkpoint restores at any parallelism (docs/parallelism.md).
/// </remarks>
public sealed class QueryJob<T> : IAsyncDisposable
{
    private readonly QueryExecution _execution;
    private readonly QueryRunner _runner;
    private readonly ResultCollector<T> _results;
    private readonly DeadLetterBuffer _deadLetters;
    private readonly EventSink<T> _sink;
    private readonly JobOptions _options;
    private readonly string _fingerprint;
    private readonly CompiledQuery<T> _compiled;
    private readonly ConcurrentQueue<CheckpointRequest> _requests = new();
    private readonly TimeProvider _clock;
    private readonly JobMetrics? _metrics;
    private readonly IParallelCheckpoint[] _parallel;
    private readonly List<TimeSpan> _alignments = [];
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // At P > 1 the loop waits on the merge, which may have nothing for a long time (a keyed aggregate emits when windows close), so
    // CheckpointEveryEvents cannot wait for a step: the source tasks tell after each of their steps how much they have read, and the
    // one that crosses the mark wakes the loop (_eventsDue, then _wake; WakeTask looks at _eventsDue after it renews _wake).
    private readonly EventsSinceCheckpoint? _eventsRead;
    private int _eventsDue;
    private readonly Lock _gate = new();
    private long _checkpointId; // the last checkpoint saved or restored
    private long _checkpointSequence; // the last id handed out: a checkpoint that failed half-way used its id up
    private readonly Runtime.State.IKeyedStateStoreFactory? _keyedState;

    // The keyed state's cut of the checkpoint being taken (IKeyedStateStoreFactory.BeginCut: before the cut at P = 1, before the
    // barrier above), and the cut of each of this run's checkpoints not yet known to be dropped, by id (under its own lock: the
    // file is saved off the loop), so that the stores keep the files of the checkpoints a restore may start from.
    private long _cut;
    private readonly Dictionary<long, long> _cutOf = [];

    // The checkpoint whose file is being written off the loop (a part whose snapshot ends asynchronously: a RocksDB store's flush,
    // on the job's thread at parallelism 1 or on each keyed task's at a barrier), or null. At most one is in flight: the next is
    // taken (at P > 1: its barrier requested) once the loop has committed this one's sinks.
    private PendingCheckpoint? _inFlight;

    /// <summary>Gets how long each checkpoint kept the job's loop (the pause the query sees at parallelism 1), in order; measurements.</summary>
    internal List<TimeSpan> LoopPauses { get; } = [];

    /// <summary>Gets, for each entry of <see cref="LoopPauses"/>, the JIT compilation and garbage collection inside it; measurements.</summary>
    internal List<PauseCost> LoopPauseCosts { get; } = [];

    /// <summary>Gets, at parallelism above 1, when each barrier passed each point of the parallel parts (diagnostics, benchmarks).</summary>
    internal IReadOnlyList<BarrierTimeline> BarrierTimelines => [.. _parallel.SelectMany(p => p.Timelines)];

    /// <summary>Gets the operators of the job's query (tests read an operator's counters; above parallelism 1 the keyed tasks'
    /// operators are inside the parallel run, one of these).</summary>
    internal IReadOnlyList<object> Operators => _execution.Context.Operators;

    /// <summary>How long <see cref="DisposeAsync"/> waits for the parallel tasks to end before it frees their state stores.</summary>
    private static readonly TimeSpan StoreReleaseTimeout = TimeSpan.FromSeconds(30);
    private int _started;
    private bool _ended;

    internal QueryJob(CompiledQuery<T> compiled, EventSink<T> sink, JobOptions options)
    {
        _sink = sink;
        _options = options;
        _compiled = compiled;
        _deadLetters = new DeadLetterBuffer();
        // The job's committed dead-letter sink takes the query's dead letters; without one, the query's own QueryOptions.DeadLetters
        // (not committed with checkpoints) still receives them, and with neither the first rejected record stops the job.
        var queryOptions = compiled.Options with
        {
            DeadLetters = options.DeadLetters is null ? compiled.Options.DeadLetters : _deadLetters,
            Parallelism = options.Parallelism ?? compiled.Options.Parallelism,
        };
        // A union of partitions under the split aggregate is read by several source tasks, as in a query; their barriers are aligned at the tasks.
        // A replayed array is read by one source task (its checkpoint lists it as one source at every parallelism).
        // A broadcast exchange only with the heap backend and local tasks (its tasks' joins are heap joins; the cluster hashes only).
        _keyedState = (options.State ?? StateBackend.Heap).OpenRun();
        var parallel = ParallelPlanner.Plan(compiled.Root, queryOptions, broadcast: _keyedState is null && options.ParallelHost is null) with { SplitArrays = false };
        ResultCollector<T>? results = null;
        _metrics = options.Metrics;
        _execution = QueryExecution.Create(compiled.Root, c => results = new ResultCollector<T>(c), queryOptions, _metrics, parallel, _keyedState, options.ParallelHost);
        _parallel = [.. _execution.Context.Checkpointed.OfType<ParallelStatePart>().Select(p => p.Run)];
        if (options.CheckpointEveryEvents is { } every && options.Checkpoints is not null && _parallel.Length > 0)
        {
            var eventsRead = _eventsRead = new EventsSinceCheckpoint(every, EventsDue);
            for (int i = 0; i < _parallel.Length; i++)
            {
                int part = i;
                _parallel[i].SourceStepped = (source, read) => eventsRead.Stepped(part, source, read);
            }
        }

        _results = results!;
        _runner = new QueryRunner(_execution.Context);
        _clock = queryOptions.TimeProvider;
        _fingerprint = CheckpointFormat.Fingerprint(compiled.PhysicalPlan, typeof(T));
        (Guarantee, GuaranteeReason) = Decide();
    }

    /// <summary>
    /// Prints the plans this job runs, as <c>Explain()</c> prints a query's, compiled for the job's state backend: with keyed state
    /// off the heap (<see cref="JobOptions.State"/>) a pass that would keep on the heap what the backend spills says so and does not apply.
    /// </summary>
    /// <returns>The logical plan, the passes and the physical plan as text.</returns>
    public string Explain() => _compiled.Explain();

    /// <summary>Gets what the job promises about its output across a crash.</summary>
    public DeliveryGuarantee Guarantee { get; }

    /// <summary>Gets why the guarantee is what it is, naming the source or sink that limits it.</summary>
    public string GuaranteeReason { get; }

    /// <summary>Gets the id of the last checkpoint saved in the store (the one a restore would start from) or restored; 0 before
    /// any. A checkpoint that failed before it was saved (the job crashed or was cancelled while taking it) does not count.</summary>
    public long LastCheckpointId => Interlocked.Read(ref _checkpointId);

    /// <summary>Runs the job to the end of its sources (or until <paramref name="cancellationToken"/> fires), restoring first when there is a checkpoint.</summary>
    /// <param name="cancellationToken">Stops the job; the sink is not completed, so a later run goes on from the last checkpoint.</param>
    /// <returns>The counts and warnings of this run.</returns>
    /// <exception cref="QueryExecutionException">The query failed (a source, a lambda, or the sink); the message says where.</exception>
    /// <exception cref="InvalidDataException">The checkpoint to restore from belongs to another query or format.</exception>
    /// <exception cref="IOException">Another job holds the checkpoint store (see <see cref="CheckpointStore.Acquire"/>); the message names it.</exception>
    /// <exception cref="InsufficientMemoryException">The state outgrew the managed heap; the message says how much state was open, on which backend, and what to do.</exception>
    public Task<JobResult> RunAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("A job runs once; make a new job (query.ToJob) to run again. It will restore from the checkpoint store.");
        }

        // At P > 1 the merge in front of the sink waits for the tasks by blocking its thread, so the job's loop gets a pool
        // thread of its own instead of the caller's (which may be the one feeding a live source).
        return _parallel.Length == 0 ? RunCoreAsync(cancellationToken) : Task.Run(() => RunCoreAsync(cancellationToken), CancellationToken.None);
    }

    private async Task<JobResult> RunCoreAsync(CancellationToken cancellationToken)
    {

        var warnings = new List<string>();
        // Held until the run ends: a second job on the same checkpoints fails here, naming this one, instead of corrupting them.
        using var storeLock = _options.Checkpoints?.Acquire($"the job writing to {_sink.Name}", warnings.Add);
        var restored = await CheckpointLoading.LoadAsync(_options, CheckFingerprint, warnings, cancellationToken).ConfigureAwait(false);
        byte[]? sinkState = null, deadLetterState = null;
        if (restored is not null)
        {
            (sinkState, deadLetterState) = Restore(restored);
            Interlocked.Exchange(ref _checkpointId, restored.Id);
            Interlocked.Exchange(ref _checkpointSequence, restored.Id);
        }

        await _sink.OpenAsync(sinkState, cancellationToken).ConfigureAwait(false);
        if (_options.DeadLetters is { } deadLetterSink)
        {
            await deadLetterSink.OpenAsync(deadLetterState, cancellationToken).ConfigureAwait(false);
        }

        long results = 0, rejected = 0, checkpoints = 0, barrier = 0;
        bool barrierInFlight = false;
        long eventsAtCheckpoint = EventsRead();
        long timeAtCheckpoint = _clock.GetTimestamp();
        ArmEventsWake(eventsAtCheckpoint);
        using var stop = cancellationToken.Register(_execution.Stop);
        try
        {
            WarmCheckpointPath();
            _runner.Start();
            while (true)
            {
                bool more;
                try
                {
                    more = await _runner.StepAsync(WakeTask(timeAtCheckpoint), cancellationToken).ConfigureAwait(false);
                    Volatile.Write(ref _eventsDue, 0);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    more = false;
                }

                results += await FlushAsync(cancellationToken).ConfigureAwait(false);
                rejected += await FlushDeadLettersAsync(cancellationToken).ConfigureAwait(false);
                if (_results.Error is { } error)
                {
                    throw error as QueryExecutionException ?? new QueryExecutionException(error.Message, error);
                }

                // A checkpoint saved off the loop since the last step: its sinks commit here, on the loop, in checkpoint order.
                checkpoints += await CommitSavedCheckpointAsync(wait: false, cancellationToken).ConfigureAwait(false);
                if (!more || cancellationToken.IsCancellationRequested)
                {
                    break;
                }

                if (barrierInFlight)
                {
                    // Parallel: the checkpoint is taken once the barrier has come through every task (or a part ran to its end).
                    if (!Array.TrueForAll(_parallel, p => p.IsAligned || p.HasEnded))
                    {
                        continue;
                    }

                    // Flink's alignment (the longest first-to-last barrier time at a task); none when the input ended before the barrier got through.
                    TimeSpan? alignment = Array.Exists(_parallel, p => p.IsAligned) ? _parallel.Where(p => p.IsAligned).Max(p => p.LastAlignment) : null;
                    if (alignment is { } aligned)
                    {
                        _alignments.Add(aligned);
                    }

                    // Everything before the barrier is through: its dead letters too (the aggregate tasks wrote theirs before passing it on).
                    rejected += await FlushDeadLettersAsync(cancellationToken).ConfigureAwait(false);
                    checkpoints += await TakeRequestedCheckpointsAsync(cancellationToken, alignment).ConfigureAwait(false);
                    foreach (var part in _parallel)
                    {
                        part.ReleaseBarrier();
                    }

                    _deadLetters.Release(barrier);

                    barrierInFlight = false;
                    eventsAtCheckpoint = EventsRead();
                    timeAtCheckpoint = _clock.GetTimestamp();
                    ArmEventsWake(eventsAtCheckpoint);
                    continue;
                }

                bool due = (_options.CheckpointEveryEvents is { } every && EventsRead() - eventsAtCheckpoint >= every)
                    || (_options.CheckpointInterval is { } interval && _clock.GetElapsedTime(timeAtCheckpoint) >= interval);
                // While a checkpoint is still being written off the loop, the next one waits (it is taken at the first step after).
                if ((due || !_requests.IsEmpty) && _inFlight is null)
                {
                    if (due && _options.Checkpoints is not null)
                    {
                        _requests.Enqueue(new CheckpointRequest(null));
                    }

                    if (_parallel.Length > 0 && !_requests.IsEmpty)
                    {
                        // Ask every source task for a barrier; the steps go on while it flows through the channels. The keyed tasks'
                        // stores begin their snapshots at the barrier: they belong to this cut.
                        _cut = _keyedState?.BeginCut() ?? 0;
                        barrier++;
                        _deadLetters.Hold(barrier);
                        foreach (var part in _parallel)
                        {
                            part.RequestBarrier(barrier);
                        }

                        barrierInFlight = true;
                        continue;
                    }

                    checkpoints += await TakeRequestedCheckpointsAsync(cancellationToken).ConfigureAwait(false);
                    eventsAtCheckpoint = EventsRead();
                    timeAtCheckpoint = _clock.GetTimestamp();
                    ArmEventsWake(eventsAtCheckpoint);
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
            checkpoints += await CommitSavedCheckpointAsync(wait: true, cancellationToken).ConfigureAwait(false);
            if (barrierInFlight)
            {
                // The input ended before the barrier got through: the held dead letters go out, and the final state answers the request.
                _deadLetters.Release(barrier);
                rejected += await FlushDeadLettersAsync(cancellationToken).ConfigureAwait(false);
            }

            await _sink.CompleteAsync(cancellationToken).ConfigureAwait(false);
            if (_options.DeadLetters is { } letters)
            {
                await letters.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }

            // Requests that came in after the last step still get an answer: the final state.
            do
            {
                checkpoints += await TakeRequestedCheckpointsAsync(cancellationToken).ConfigureAwait(false);
                checkpoints += await CommitSavedCheckpointAsync(wait: true, cancellationToken).ConfigureAwait(false);
            }
            while (!_requests.IsEmpty);
            // At P > 1 the sources' ingress runs on each parallel part's source task, which counts its own late events.
            var late = _parallel.SelectMany(p => p.LateEventCounts).Append(_execution.Context.LateEvents).ToArray();
            return new JobResult(results, rejected, checkpoints, restored?.Id, warnings)
            {
                LateEvents = late.Sum(l => l.Late),
                LateEventsDropped = late.Sum(l => l.Dropped),
                LateEventsAdjusted = late.Sum(l => l.Adjusted),
                Parallelism = _parallel.Length == 0 ? 1 : _execution.Context.Options.Parallelism,
                BarrierAlignmentP99 = Percentile99(_alignments),
            };
        }
        catch (Exception ex) when (IsOutOfMemory(ex))
        {
            // The state outgrew the managed heap: say so, with what the state was and what to do, instead of the bare exception.
            var (heap, spilled) = OpenGroups();
            throw new InsufficientMemoryException(
                Internal.Strings.JobOutOfMemory((_options.State ?? StateBackend.Heap).Name, heap, spilled, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes), ex);
        }
        finally
        {
            _execution.Stop();
            await AbandonInFlightCheckpointAsync().ConfigureAwait(false);
            lock (_gate)
            {
                _ended = true;
            }

            while (_requests.TryDequeue(out var request))
            {
                request.Done.TrySetCanceled(cancellationToken.IsCancellationRequested ? cancellationToken : new CancellationToken(true));
            }
        }
    }

    private static bool IsOutOfMemory(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is OutOfMemoryException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The keyed operators' groups on the heap and spilled (a parallel run, one of the operators, counts its tasks').</summary>
    private (long Heap, long Spilled) OpenGroups()
    {
        long heap = 0, spilled = 0;
        foreach (var part in _execution.Context.Operators)
        {
            if (part is Runtime.State.IStateMeter meter)
            {
                heap += meter.HeapGroups;
                spilled += meter.SpilledGroups;
            }
        }

        return (heap, spilled);
    }

    /// <summary>Writes a checkpoint of the running job to <paramref name="destination"/> (taken at the next step boundary, or of the final state if the input ends first).</summary>
    /// <param name="destination">Where to write it.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The checkpoint's id.</returns>
    /// <exception cref="InvalidOperationException">The job has ended.</exception>
    public Task<long> CheckpointAsync(Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return RequestAsync(new CheckpointRequest(destination), cancellationToken);
    }

    /// <summary>Takes a checkpoint into <see cref="JobOptions.Checkpoints"/> at the next step boundary.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The checkpoint's id.</returns>
    public Task<long> CheckpointAsync(CancellationToken cancellationToken = default)
    {
        if (_options.Checkpoints is null)
        {
            throw new InvalidOperationException("The job has no checkpoint store: set JobOptions.Checkpoints, or pass a Stream.");
        }

        return RequestAsync(new CheckpointRequest(null), cancellationToken);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _execution.Stop();
        if (_keyedState is not null)
        {
            // The parallel tasks' threads may still be inside a keyed operator when the job is stopped (a stop reaches a task between
            // two batches): its native store must outlive them. Disposing it under a running task crashed the process (issue #18).
            // A task that does not end in time keeps its stores (native memory and the live directory, removed by the next run)
            // rather than have them freed under it.
            if (_execution.Join(StoreReleaseTimeout))
            {
                _keyedState.Dispose();
            }
        }

        await _sink.DisposeAsync().ConfigureAwait(false);
        if (_options.DeadLetters is { } letters)
        {
            await letters.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<long> RequestAsync(CheckpointRequest request, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_ended)
            {
                throw new InvalidOperationException("The job has ended: a checkpoint is taken while it runs. Its last checkpoint is in the store.");
            }

            _requests.Enqueue(request);
        }

        _wake.TrySetResult();
        using var registration = cancellationToken.Register(() => request.Done.TrySetCanceled(cancellationToken));
        return await request.Done.Task.ConfigureAwait(false);
    }

    private Task WakeTask(long timeAtCheckpoint)
    {
        if (_wake.Task.IsCompleted)
        {
            _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
            // A request waits while a checkpoint is in flight; the in-flight one's save wakes the loop when it ends.
            if (_inFlight is null ? !_requests.IsEmpty || Volatile.Read(ref _eventsDue) != 0 : _inFlight.Saved!.IsCompleted)
            {
                _wake.TrySetResult();
            }
        }

        if (_options.CheckpointInterval is { } interval && _options.Checkpoints is not null && _inFlight is null)
        {
            var remaining = interval - _clock.GetElapsedTime(timeAtCheckpoint);
            return Task.WhenAny(_wake.Task, Task.Delay(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, _clock));
        }

        return _wake.Task;
    }

    /// <summary>Wakes the loop once the source tasks have read <see cref="JobOptions.CheckpointEveryEvents"/> more than <paramref name="eventsAtCheckpoint"/>.</summary>
    private void ArmEventsWake(long eventsAtCheckpoint) => _eventsRead?.Arm(eventsAtCheckpoint);

    /// <summary>On the source task whose step made a checkpoint due (once per arming): wakes the loop.</summary>
    private void EventsDue()
    {
        Volatile.Write(ref _eventsDue, 1);
        Volatile.Read(ref _wake).TrySetResult();
    }

    private long EventsRead() => SourceDriver.EventsReadBy(_execution.Context.Sources);

    private async Task<long> FlushAsync(CancellationToken cancellationToken)
    {
        int count = _results.Count;
        if (count == 0)
        {
            return 0;
        }

        await _sink.WriteAsync(_results.Items.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
        _results.Clear();
        _metrics?.AddResults(count);
        return count;
    }

    private async Task<long> FlushDeadLettersAsync(CancellationToken cancellationToken)
    {
        if (_options.DeadLetters is not { } sink)
        {
            return 0;
        }

        var letters = _deadLetters.TakeAll();
        if (letters.Length == 0)
        {
            return 0;
        }

        await sink.WriteAsync(letters, cancellationToken).ConfigureAwait(false);
        _metrics?.AddDeadLetters(letters);
        return letters.Length;
    }

    /// <summary>The 99th percentile (nearest rank) of the barrier alignment times; null when no barrier was aligned (parallelism 1).</summary>
    private static TimeSpan? Percentile99(List<TimeSpan> times)
    {
        if (times.Count == 0)
        {
            return null;
        }

        var sorted = times.Order().ToArray();
        return sorted[Math.Max(0, (int)Math.Ceiling(sorted.Length * 0.99) - 1)];
    }

    /// <summary>
    /// Takes the requested checkpoints. Each is a consistent cut taken now (between steps); its file is written and its sinks
    /// committed now too, unless a part's snapshot ends asynchronously (a RocksDB store's flush, at any parallelism): then its file is
    /// written off the loop once that part is ready, the loop goes on stepping the query, and <see cref="CommitSavedCheckpointAsync"/>
    /// commits the sinks when it finds the file saved. The requests left wait for that one to be committed.
    /// </summary>
    private async Task<long> TakeRequestedCheckpointsAsync(CancellationToken cancellationToken, TimeSpan? alignment = null)
    {
        long taken = 0;
        while (_inFlight is null && _requests.TryDequeue(out var request))
        {
            if (request.Done.Task.IsCompleted)
            {
                continue;
            }

            try
            {
                long id = Interlocked.Increment(ref _checkpointSequence);
                if (_keyedState is not null)
                {
                    // Without a barrier (parallelism 1) the cut is taken here; with one, the tasks' stores began theirs at the barrier.
                    if (_parallel.Length == 0)
                    {
                        _cut = _keyedState.BeginCut();
                    }

                    lock (_cutOf)
                    {
                        _cutOf[id] = _cut;
                    }
                }

                var cost = PauseCost.Now();
                long started = _clock.GetTimestamp();
                var snapshot = await SnapshotAsync(id, cancellationToken).ConfigureAwait(false);
                if (!snapshot.IsReady)
                {
                    var pending = new PendingCheckpoint(id, request, started, alignment);
                    pending.Saved = Task.Run(() => SaveWhenReadyAsync(pending, snapshot, cancellationToken), CancellationToken.None);
                    _inFlight = pending;
                    // The loop may be waiting for input: wake it to commit the sinks as soon as the file is saved.
                    _ = pending.Saved.ContinueWith(static (_, job) => ((QueryJob<T>)job!)._wake.TrySetResult(), this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                    LoopPauses.Add(_clock.GetElapsedTime(started));
                    LoopPauseCosts.Add(PauseCost.Since(cost));
                    break;
                }

                long size = await WriteCheckpointAsync(id, snapshot, request.Destination, cancellationToken).ConfigureAwait(false);
                await CommitAsync(id, request, size, started, alignment, cancellationToken).ConfigureAwait(false);
                LoopPauses.Add(_clock.GetElapsedTime(started));
                LoopPauseCosts.Add(PauseCost.Since(cost));
                taken++;
            }
            catch (Exception ex)
            {
                request.Done.TrySetException(ex);
                throw;
            }
        }

        return taken;
    }

    /// <summary>Commits the sinks for the checkpoint written off the loop once it is saved (or, with <paramref name="wait"/>, after waiting for it).</summary>
    /// <returns>1 when a checkpoint was committed, else 0.</returns>
    /// <exception cref="IOException">The checkpoint failed (its asynchronous part or its save): it is not the newest, and the job stops, as for a failed save.</exception>
    private async Task<long> CommitSavedCheckpointAsync(bool wait, CancellationToken cancellationToken)
    {
        if (_inFlight is not { } pending || (!wait && !pending.Saved!.IsCompleted))
        {
            return 0;
        }

        long size;
        try
        {
            size = await pending.Saved!.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _inFlight = null;
            pending.Request.Done.TrySetException(ex);
            throw;
        }

        _inFlight = null;
        try
        {
            await CommitAsync(pending.Id, pending.Request, size, pending.Started, pending.Alignment, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            pending.Request.Done.TrySetException(ex);
            throw;
        }

        return 1;
    }

    /// <summary>The run ends (cancelled, failed) with a checkpoint still in flight: waits for its file (it must not be written after
    /// the run released the store), and counts it as the newest when it was saved; its sinks are not committed.</summary>
    private async Task AbandonInFlightCheckpointAsync()
    {
        if (_inFlight is not { } pending)
        {
            return;
        }

        _inFlight = null;
        try
        {
            await pending.Saved!.ConfigureAwait(false);
            Interlocked.Exchange(ref _checkpointId, pending.Id);
        }
        catch (Exception ex)
        {
            pending.Request.Done.TrySetException(ex);
            return;
        }

        pending.Request.Done.TrySetCanceled(new CancellationToken(true));
    }

    /// <summary>Off the loop: waits for the parts that end asynchronously, writes their sections, then the checkpoint file.</summary>
    private async Task<long> SaveWhenReadyAsync(PendingCheckpoint pending, TakenSnapshot snapshot, CancellationToken cancellationToken)
    {
        try
        {
            foreach (var (index, section) in snapshot.Deferred)
            {
                string name = snapshot.Sections[index].Name;
                try
                {
                    await section.Ready.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    throw new IOException(Internal.Strings.CheckpointPartFailed(pending.Id, name, ex, LastCheckpointId), ex);
                }

                snapshot.Sections[index] = (name, Written(section.Write));
            }

            snapshot.Deferred.Clear();
            return await WriteCheckpointAsync(pending.Id, snapshot, pending.Request.Destination, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            snapshot.Dispose();
        }
    }

    /// <summary>Writes a whole snapshot into the request's stream or the store; returns the file's size. Disposes the sections.</summary>
    private async Task<long> WriteCheckpointAsync(long id, TakenSnapshot snapshot, Stream? destination, CancellationToken cancellationToken)
    {
        long size = 0;
        try
        {
            var sections = snapshot.Whole();
            _metrics?.StateWritten([.. sections.Take(snapshot.PartCount).Select(s => (s.Name, s.Data.Length))]);

            // The sections stream into the destination (the store's temporary file): the file is never assembled in memory.
            long takenAt = _clock.GetUtcNow().UtcTicks;
            if (destination is not null)
            {
                size = await CheckpointFormat.WriteAsync(destination, id, takenAt, _fingerprint, sections, cancellationToken).ConfigureAwait(false);
                await destination.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await _options.Checkpoints!.SaveAsync(
                    id,
                    async (stream, token) => size = await CheckpointFormat.WriteAsync(stream, id, takenAt, _fingerprint, sections, token).ConfigureAwait(false),
                    cancellationToken).ConfigureAwait(false);
            }

            RetainKeyedState(id);
        }
        finally
        {
            snapshot.Dispose();
        }

        return size;
    }

    /// <summary>
    /// Checkpoint <paramref name="id"/> is saved: tells the keyed state which of this run's checkpoints a restore may start from (the
    /// ones the checkpoint store lists), so that a store deletes only files that none of those, nor a snapshot begun since, names —
    /// not the files of its last few snapshots, some of which may never have been saved (issue #18). When the store cannot list its
    /// checkpoints, nothing is deleted this time.
    /// </summary>
    private void RetainKeyedState(long id)
    {
        if (_keyedState is null)
        {
            return;
        }

        HashSet<long> listed;
        try
        {
            listed = [.. _options.Checkpoints?.List() ?? []];
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return;
        }

        long cut;
        var cuts = new List<long>();
        lock (_cutOf)
        {
            cut = _cutOf[id];
            foreach (var (saved, savedCut) in _cutOf.ToList())
            {
                if (listed.Contains(saved))
                {
                    cuts.Add(savedCut);
                }
                else if (saved < id)
                {
                    _cutOf.Remove(saved); // dropped by the store, written to a stream, or never saved: no longer needed here
                }
            }
        }

        _keyedState.CheckpointSaved(cut, cuts);
    }

    /// <summary>The checkpoint is saved: a restore would start from it now, whatever happens to the commits below.</summary>
    private async Task CommitAsync(long id, CheckpointRequest request, long size, long started, TimeSpan? alignment, CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _checkpointId, id);
        await _sink.CommitAsync(id, cancellationToken).ConfigureAwait(false);
        if (_options.DeadLetters is { } letters)
        {
            await letters.CommitAsync(id, cancellationToken).ConfigureAwait(false);
        }

        _metrics?.CheckpointTaken(id, size, _clock.GetElapsedTime(started), alignment);
        request.Done.TrySetResult(id);
    }

    /// <summary>Writes every stateful part's section (between batches: a consistent cut), then the sinks' commit states. A part whose
    /// snapshot ends asynchronously leaves its section to be written when it is ready (<see cref="TakenSnapshot.Deferred"/>).</summary>
    private async Task<TakenSnapshot> SnapshotAsync(long id, CancellationToken cancellationToken)
    {
        var snapshot = new TakenSnapshot();
        var sections = snapshot.Sections;
        foreach (var part in _execution.Context.Checkpointed)
        {
            if (part is ParallelStatePart { Run: var run })
            {
                // The same sections as at parallelism 1: the aggregate (per key group, from every task), then the source task's parts.
                // The aggregate's section waits for the tasks' store checkpoints (RocksDB) off the loop, as at parallelism 1.
                var (aggregate, sources) = run.IsAligned ? run.BeginStateAtBarrier() : run.BeginStateAtEnd();
                AddSection($"part {sections.Count}: {run.AggregateName}", aggregate);
                var names = run.SourcePartNames;
                for (int k = 0; k < names.Count; k++)
                {
                    sections.Add(($"part {sections.Count}: {names[k]}", SectionBuffer.Wrap(sources[k])));
                }

                continue;
            }

            string name = $"part {sections.Count}: {part.CheckpointName}";
            if (part is IDeferredCheckpointed deferred && deferred.BeginWriteState() is { } section)
            {
                AddSection(name, section);
                continue;
            }

            // Segments, never regrown or copied: the state's serialized size is held once, then streamed into the file.
            sections.Add((name, Written(part.WriteState)));
        }

        snapshot.PartCount = sections.Count;
        sections.Add(("sink", SectionBuffer.Wrap(await _sink.PrepareCommitAsync(id, cancellationToken).ConfigureAwait(false))));
        if (_options.DeadLetters is { } letters)
        {
            sections.Add(("dead letters", SectionBuffer.Wrap(await letters.PrepareCommitAsync(id, cancellationToken).ConfigureAwait(false))));
        }

        return snapshot;

        void AddSection(string name, DeferredSection section)
        {
            // A part with an asynchronous phase has its file written off the loop even when that phase has already ended (the
            // file, with every hot session's bytes, is not written in the pause); a part without one (the heap) is written now.
            if (section.IsSynchronous)
            {
                sections.Add((name, Written(section.Write)));
            }
            else
            {
                snapshot.Deferred.Add((sections.Count, section));
                sections.Add((name, null));
            }
        }
    }

    /// <summary>
    /// Before the first step of a job that takes checkpoints: runs each part's checkpoint code once over its state as it is (empty, or
    /// just restored), keeping nothing, so that the first checkpoint's cut does not pay the code's first run inside the query's pause
    /// (issue #18: the first of nine checkpoints paused 480 ms, the others a few; 226 methods were compiled by the JIT in it, and the
    /// sources' state codec built its reflection and System.Text.Json metadata). A part's <see cref="ICheckpointed.WriteState"/> is
    /// a pure capture except where it implements <see cref="ICheckpointWarmup"/> (a spilled aggregate starts its store's checkpoint).
    /// </summary>
    private void WarmCheckpointPath()
    {
        if (_options.Checkpoints is null)
        {
            return; // no periodic checkpoints (a savepoint asked for on a stream pays the first run, as before)
        }

        // The job's own cut path: compiled now instead of in the first pause (its async state machines are nested generic types).
        foreach (string name in (ReadOnlySpan<string>)[nameof(TakeRequestedCheckpointsAsync), nameof(SnapshotAsync)])
        {
            var method = typeof(QueryJob<T>).GetMethod(name, System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)!;
            System.Runtime.CompilerServices.RuntimeHelpers.PrepareMethod(method.MethodHandle, [typeof(T).TypeHandle]);
            if (method.GetCustomAttributes(typeof(System.Runtime.CompilerServices.AsyncStateMachineAttribute), false) is [System.Runtime.CompilerServices.AsyncStateMachineAttribute { StateMachineType: var machine }])
            {
                var moveNext = machine.MakeGenericType(typeof(T)).GetMethod("MoveNext", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic)!;
                System.Runtime.CompilerServices.RuntimeHelpers.PrepareMethod(moveNext.MethodHandle, [typeof(T).TypeHandle]);
            }
        }

        foreach (var part in _execution.Context.Checkpointed)
        {
            switch (part)
            {
                case ParallelStatePart parallel:
                    // Its tasks run their own cuts, at their barriers, on their threads: warmed here before they start.
                    if (_execution.Context.Options.WarmParallelCheckpoints)
                    {
                        parallel.Run.WarmCheckpointPath();
                    }

                    break;
                case ICheckpointWarmup warm:
                    warm.WarmCheckpointPath();
                    break;
                default:
                    Written(part.WriteState).Dispose();
                    break;
            }
        }
    }

    private static SectionBuffer Written(Action<BinaryWriter> write)
    {
        var buffer = new SectionBuffer();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            write(writer);
        }

        return buffer;
    }

    private void CheckFingerprint(CheckpointFormat.Snapshot snapshot, string origin)
    {
        if (!string.Equals(snapshot.Fingerprint, _fingerprint, StringComparison.Ordinal))
        {
            throw new InvalidDataException(
                $"{origin} (checkpoint {snapshot.Id}) was taken by another query (plan fingerprint {snapshot.Fingerprint}, this query's is {_fingerprint}). " +
                "A changed query cannot take over another's state: use a new checkpoint directory, or run the query the checkpoint came from.");
        }
    }

    private (byte[]? Sink, byte[]? DeadLetters) Restore(CheckpointFormat.Snapshot snapshot)
    {
        var parts = _execution.Context.Checkpointed;
        var sections = snapshot.Sections;
        int count = parts.Sum(p => p is ParallelStatePart { Run: var run } ? 1 + run.SourcePartNames.Count : 1);
        int expected = count + 1 + (_options.DeadLetters is null ? 0 : 1);
        if (sections.Count < count + 1)
        {
            throw new InvalidDataException($"Checkpoint {snapshot.Id} has {sections.Count} sections; this query needs {expected}.");
        }

        int next = 0;
        foreach (var part in parts)
        {
            if (part is ParallelStatePart { Run: var run })
            {
                // Written at any parallelism; each task of this run loads the key groups of its own range.
                byte[] aggregate = Section(run.AggregateName);
                var sources = run.SourcePartNames.Select(Section).ToArray();
                run.Restore(aggregate, sources);
                continue;
            }

            using var reader = new BinaryReader(new MemoryStream(Section(part.CheckpointName), writable: false));
            part.ReadState(reader);
        }

        byte[]? sink = null, letters = null;
        foreach (var (name, data) in sections.Skip(count))
        {
            if (name == "sink")
            {
                sink = data;
            }
            else if (name == "dead letters")
            {
                letters = data;
            }
        }

        return (sink, letters);

        byte[] Section(string partName)
        {
            string name = $"part {next}: {partName}";
            if (!string.Equals(sections[next].Name, name, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"Checkpoint {snapshot.Id} has '{sections[next].Name}' where this query has '{name}'.");
            }

            return sections[next++].Data;
        }
    }

    private (DeliveryGuarantee, string) Decide()
    {
        foreach (var source in _execution.Context.Sources)
        {
            if (!source.CanReplay)
            {
                return (DeliveryGuarantee.AtMostOnce, $"Source '{source.SourceName}' cannot replay from a position, so events it produced after the last checkpoint are lost on restore.");
            }
        }

        if (!_sink.IsTransactional)
        {
            return (DeliveryGuarantee.AtLeastOnce, $"Sink '{_sink.Name}' does not commit with checkpoints, so results after the last checkpoint are written again on restore.");
        }

        if (_options.DeadLetters is { IsTransactional: false } letters)
        {
            return (DeliveryGuarantee.AtLeastOnce, $"Dead-letter sink '{letters.Name}' does not commit with checkpoints, so dead letters after the last checkpoint are written again on restore.");
        }

        return (DeliveryGuarantee.ExactlyOnce, "Every source replays from its checkpointed position and every sink commits with checkpoints.");
    }

    private sealed record CheckpointRequest(Stream? Destination)
    {
        public TaskCompletionSource<long> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>A checkpoint whose cut is taken and whose file is being written off the loop.</summary>
    private sealed record PendingCheckpoint(long Id, CheckpointRequest Request, long Started, TimeSpan? Alignment)
    {
        /// <summary>Gets or sets the file's save: its size when saved.</summary>
        public Task<long>? Saved { get; set; }
    }

    /// <summary>A checkpoint's sections as taken at the cut; those of <see cref="Deferred"/> are null until their part is ready.</summary>
    private sealed class TakenSnapshot : IDisposable
    {
        private bool _disposed;

        public List<(string Name, SectionBuffer? Data)> Sections { get; } = [];

        public List<(int Index, DeferredSection Section)> Deferred { get; } = [];

        /// <summary>Gets or sets the number of the operators' and sources' sections (the sinks' follow).</summary>
        public int PartCount { get; set; }

        public bool IsReady => Deferred.Count == 0;

        public List<(string Name, SectionBuffer Data)> Whole() =>
            [.. Sections.Select(s => (s.Name, s.Data ?? throw new InvalidOperationException($"The checkpoint's section '{s.Name}' was not written.")))];

        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var (_, data) in Sections)
            {
                data?.Dispose();
            }
        }
    }

    /// <summary>Dead letters met during one step; the job writes them to its dead-letter sink after the step.</summary>
    /// <remarks>
    /// At parallelism above 1 the source and aggregate tasks write here from their own threads (so it is locked), each letter
    /// tagged with the last checkpoint barrier its task had passed (<see cref="TaskDeadLetters"/>; the job's own letters with the
    /// last barrier whose checkpoint was taken). While a barrier is in flight
    /// only the letters from before it are handed to the sink, so the dead letters a checkpoint commits are exactly those of the
    /// input before its barrier, and a restore neither repeats nor loses one.
    /// </remarks>
    private sealed class DeadLetterBuffer : IEpochDeadLetterSink
    {
        private readonly List<(long Epoch, DeadLetter Letter)> _letters = [];
        private readonly Lock _gate = new();
        private long _jobEpoch;
        private long _holdFrom = long.MaxValue;

        public void Write(DeadLetter letter) => Write(letter, Volatile.Read(ref _jobEpoch));

        public void Write(DeadLetter letter, long epoch)
        {
            lock (_gate)
            {
                _letters.Add((epoch, letter));
            }
        }

        /// <summary>From now on, letters written after barrier <paramref name="barrier"/> wait until <see cref="Release"/>.</summary>
        public void Hold(long barrier)
        {
            lock (_gate)
            {
                _holdFrom = barrier;
            }
        }

        /// <summary>The checkpoint of barrier <paramref name="barrier"/> is written: letters of the job's thread are after it now.</summary>
        public void Release(long barrier)
        {
            lock (_gate)
            {
                _holdFrom = long.MaxValue;
                Volatile.Write(ref _jobEpoch, barrier);
            }
        }

        /// <summary>Takes the letters that may go to the sink now, in the order they came.</summary>
        public DeadLetter[] TakeAll()
        {
            lock (_gate)
            {
                if (_letters.Count == 0)
                {
                    return [];
                }

                var ready = new List<DeadLetter>(_letters.Count);
                int kept = 0;
                for (int i = 0; i < _letters.Count; i++)
                {
                    if (_letters[i].Epoch < _holdFrom)
                    {
                        ready.Add(_letters[i].Letter);
                    }
                    else
                    {
                        _letters[kept++] = _letters[i];
                    }
                }

                _letters.RemoveRange(kept, _letters.Count - kept);
                return [.. ready];
            }
        }
    }
}
