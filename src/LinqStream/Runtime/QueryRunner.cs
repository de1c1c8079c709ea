namespace LinqStream.Runtime;

/// <summary>Drives the sources of one query: always the one with the lowest watermark first, so joins and unions buffer little.</summary>
internal sealed class QueryRunner
{
    private readonly QueryContext _context;
    private readonly ProgressReporter? _progress;
    private volatile bool _stopped;

    public QueryRunner(QueryContext context) => (_context, _progress) = (context, ProgressReporter.Create(context));

    /// <summary>Gets or sets what runs after every step of <see cref="Run"/> and <see cref="RunAsync"/> (a parallel run's source
    /// task serves checkpoint barriers there, between two steps); null on the one-task path.</summary>
    public Action? AfterStep { get; set; }

    /// <summary>Gets or sets a task that also ends <see cref="RunAsync"/>'s wait for data (a checkpoint barrier was requested).</summary>
    public Func<Task>? Wake { get; set; }

    /// <summary>Gets or sets what <see cref="RunAsync"/> awaits after <see cref="AfterStep"/> before its next step, when it returns a
    /// task (a parallel run's source task that sent a checkpoint barrier waits there until the barrier is through); null or a null task: nothing.</summary>
    public Func<Task?>? Hold { get; set; }

    public bool HasLiveSources
    {
        get
        {
            foreach (var source in _context.Sources)
            {
                if (source.IsLive)
                {
                    return true;
                }
            }

            return false;
        }
    }

    public void Stop()
    {
        _stopped = true;
        _context.Stop();
    }

    /// <summary>Runs replay sources to the end on the calling thread.</summary>
    public void Run()
    {
        StartSources();
        while (!_stopped && !_context.IsStopped)
        {
            var next = LowestWatermark();
            if (next is null)
            {
                break;
            }

            next.TryStep();
            _progress?.Step();
            AfterStep?.Invoke();
        }

        // Also when the query was stopped (by its consumer, by Take, by an error): the last report says where it got to.
        _progress?.Finish(RanToEnd());
    }

    /// <summary>Runs until every source completes or <paramref name="cancellationToken"/> fires; live sources are awaited.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var sources = _context.Sources;
        using var registration = cancellationToken.Register(Stop);
        StartSources();
        while (!_stopped && !_context.IsStopped)
        {
            bool any = false, stepped = false;
            // Lowest watermark first; a live source with nothing to give lets the others go on.
            sources.Sort(static (a, b) => a.Watermark.CompareTo(b.Watermark));
            foreach (var source in sources)
            {
                if (source.IsCompleted)
                {
                    continue;
                }

                any = true;
                if (source.TryStep())
                {
                    _progress?.Step();
                    stepped = true;
                    break;
                }
            }

            if (!any)
            {
                break;
            }

            AfterStep?.Invoke();
            if (Hold?.Invoke() is { IsCompleted: false } hold)
            {
                try
                {
                    await hold.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                continue;
            }

            if (!stepped)
            {
                var waits = new List<Task>(sources.Count + 1);
                foreach (var source in sources)
                {
                    if (!source.IsCompleted)
                    {
                        waits.Add(source.WaitForDataAsync(cancellationToken));
                    }
                }

                if (waits.Count == 0)
                {
                    // Every open source completed since it was looked at (a cancelled live source, or a stop that disposed them
                    // all): look again. Waiting for Wake alone here would wait forever once the run has stopped, since nothing
                    // completes it then (a parallel run's source task that was stopped right after a step that found no data).
                    continue;
                }

                if (Wake is { } wake)
                {
                    waits.Add(wake());
                }

                try
                {
                    await Task.WhenAny(waits).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        await ReleasedAsync(sources).ConfigureAwait(false);
        _progress?.Finish(RanToEnd());
    }

    /// <summary>
    /// How long <see cref="RunAsync"/> waits, once it ends, for the live sources' readers to let their sources go (cancelled by the
    /// stop, or at their end): a source that ignores its cancellation token is left behind after this, not waited for forever.
    /// </summary>
    private static readonly TimeSpan SourceReleaseTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Waits until every live source's reader has ended and disposed its source, at most <see cref="SourceReleaseTimeout"/>: so a
    /// consumer that leaves <c>await foreach</c> over <c>ToAsyncEnumerable</c>, or a cancelled <c>ToListAsync</c>, returns after the
    /// sources' connections are closed, not while a pool thread is still closing them.
    /// </summary>
    private static async Task ReleasedAsync(List<SourceDriver> sources)
    {
        List<Task>? pending = null;
        for (int i = 0; i < sources.Count; i++)
        {
            if (!sources[i].Released.IsCompleted)
            {
                (pending ??= []).Add(sources[i].Released);
            }
        }

        if (pending is null)
        {
            return;
        }

        try
        {
            // The readers catch their own failures (they go to the query), so this only ends or times out.
            await Task.WhenAll(pending).WaitAsync(SourceReleaseTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A source that ignores its cancellation token: left behind.
        }
    }

    /// <summary>Starts the sources; call once before <see cref="StepAsync"/>.</summary>
    public void Start() => StartSources();

    /// <summary>
    /// Does one step: pushes one batch from the source with the lowest watermark that has data, or waits until a source has
    /// data, <paramref name="wake"/> completes or <paramref name="cancellationToken"/> fires.
    /// </summary>
    /// <returns><see langword="false"/> when every source is done or the query stopped.</returns>
    public async ValueTask<bool> StepAsync(Task wake, CancellationToken cancellationToken)
    {
        if (_stopped || _context.IsStopped)
        {
            _progress?.Finish(RanToEnd());
            return false;
        }

        var sources = _context.Sources;
        bool any = false;
        sources.Sort(static (a, b) => a.Watermark.CompareTo(b.Watermark));
        foreach (var source in sources)
        {
            if (source.IsCompleted)
            {
                continue;
            }

            any = true;
            if (source.TryStep())
            {
                _progress?.Step();
                return true;
            }
        }

        if (!any)
        {
            _progress?.Finish(RanToEnd());
            return false;
        }

        var waits = new List<Task>(sources.Count + 1);
        foreach (var source in sources)
        {
            if (!source.IsCompleted)
            {
                waits.Add(source.WaitForDataAsync(cancellationToken));
            }
        }

        if (waits.Count == 0)
        {
            return true; // every open source completed (or the query stopped) since it was looked at: the next step sees it, no wait
        }

        waits.Add(wake);
        await Task.WhenAny(waits).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return true;
    }

    private void StartSources()
    {
        foreach (var source in _context.Sources.ToArray())
        {
            source.Start();
        }
    }

    /// <summary>Whether every source finished on its own (not because the query was stopped while one still had events).</summary>
    private bool RanToEnd() => LowestWatermark() is null && !_context.StoppedEarly;

    private SourceDriver? LowestWatermark()
    {
        SourceDriver? best = null;
        foreach (var source in _context.Sources)
        {
            if (!source.IsCompleted && (best is null || source.Watermark < best.Watermark))
            {
                best = source;
            }
        }

        return best;
    }
}
