using System.Diagnostics;
using LinqStream.Temporal;

namespace LinqStream.Runtime;

/// <summary>
/// Sends <see cref="QueryProgress"/> to <see cref="QueryOptions.Progress"/>: called by the <see cref="QueryRunner"/> after each step (a
/// batch, never an event), it looks at the clock every <see cref="StepsPerClockRead"/> steps and reports when
/// <see cref="QueryOptions.ProgressInterval"/> has passed, and once more when the query ends.
/// </summary>
/// <remarks>Runs on the query's thread, so it reads the sources' counters without locks; a report allocates, a step does not.</remarks>
internal sealed class ProgressReporter
{
    /// <summary>How many steps pass between two reads of the clock (a step is one batch; with batches of one event this keeps the cost off each event).</summary>
    public const int StepsPerClockRead = 8;

    private readonly IProgress<QueryProgress> _progress;
    private bool _finished;
    private readonly List<SourceDriver> _sources;
    private readonly Ingress.LateEventCounts _late;
    private readonly List<object> _operators;
    private readonly State.IKeyedStateStoreFactory? _keyedState;
    private readonly long _interval;
    private readonly long _started;
    private long _next;
    private int _steps;

    private ProgressReporter(IProgress<QueryProgress> progress, QueryContext context)
    {
        _progress = progress;
        _sources = context.Sources;
        _late = context.LateEvents;
        _operators = context.Operators;
        _keyedState = context.KeyedState;
        _interval = (long)(context.Options.ProgressInterval.TotalSeconds * Stopwatch.Frequency);
        _started = Stopwatch.GetTimestamp();
        _next = _started + _interval;
    }

    /// <summary>A reporter for <paramref name="context"/>, or <see langword="null"/> when the query has no <see cref="QueryOptions.Progress"/>.</summary>
    public static ProgressReporter? Create(QueryContext context) =>
        context.Options.Progress is { } progress ? new ProgressReporter(progress, context) : null;

    /// <summary>Counts one step; reports when the interval has passed.</summary>
    public void Step()
    {
        if (++_steps < StepsPerClockRead)
        {
            return;
        }

        _steps = 0;
        long now = Stopwatch.GetTimestamp();
        if (now >= _next)
        {
            _next = now + _interval;
            Report(now, final: false, ranToEnd: true);
        }
    }

    /// <summary>The last report, when the run loop ends (for any reason); only the first call reports.</summary>
    /// <param name="ranToEnd">Whether every source ran to its end; false when the query was stopped (a source stopped by a failure counts as not finished).</param>
    public void Finish(bool ranToEnd)
    {
        if (!_finished)
        {
            _finished = true;
            Report(Stopwatch.GetTimestamp(), final: true, ranToEnd);
        }
    }

    private StateProgress MeasureState()
    {
        long heap = 0, spilled = 0;
        foreach (var part in _operators)
        {
            if (part is State.IStateMeter meter)
            {
                heap += meter.HeapGroups;
                spilled += meter.SpilledGroups;
            }
        }

        var store = _keyedState?.TotalSize ?? default;
        return new StateProgress(heap, spilled, store.MemoryBytes, store.LiveBytes, store.CheckpointBytes);
    }

    private void Report(long now, bool final, bool ranToEnd)
    {
        var sources = new SourceProgress[_sources.Count];
        long events = 0, watermark = Ticks.Infinity, maxEventTime = Ticks.MinusInfinity;
        bool completed = true;
        for (int i = 0; i < sources.Length; i++)
        {
            var source = _sources[i];
            sources[i] = new SourceProgress(source.SourceName, source.EventsRead, source.Watermark, source.MaxEventTime, source.IsCompleted);
            events += source.EventsRead;
            watermark = Math.Min(watermark, source.Watermark);
            maxEventTime = Math.Max(maxEventTime, source.MaxEventTime);
            completed &= source.IsCompleted;
        }

        completed &= ranToEnd;
        if (completed && !final)
        {
            return; // the step that finished the last source: Finish sends the one completed report
        }

        if (sources.Length == 0)
        {
            watermark = Ticks.MinusInfinity;
        }

        _progress.Report(new QueryProgress(events, watermark, maxEventTime, Stopwatch.GetElapsedTime(_started, now), completed, sources)
        {
            LateEvents = _late.Late,
            LateEventsDropped = _late.Dropped,
            LateEventsAdjusted = _late.Adjusted,
            State = MeasureState(),
        });
    }
}
