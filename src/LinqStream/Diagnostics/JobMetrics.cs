using System.Diagnostics;
using System.Diagnostics.Metrics;
using LinqStream.Diagnostics;
using LinqStream.Runtime;
using LinqStream.Temporal;

namespace LinqStream;

/// <summary>
/// Measures one running job through <see cref="System.Diagnostics.Metrics"/> instruments of the meter <see cref="MeterName"/>
/// (events in and out per job and per operator, events per second, watermark and lag, late and dead-lettered events, state
/// size, backpressure, checkpoints), and keeps a <see cref="Snapshot"/> for dashboards. Pass it in <see cref="JobOptions.Metrics"/>.
/// </summary>
/// <remarks>
/// The query's task only adds to plain counters, once per batch (never per event); the instruments are observable, so an exporter
/// (OpenTelemetry's Prometheus or OTLP exporter, <c>dotnet-counters</c>) reads the counters when it collects. Rates are computed
/// every <see cref="SampleInterval"/> from the change of the counters. The instrument names are listed in docs/operations.md.
/// </remarks>
public sealed class JobMetrics : IDisposable
{
    /// <summary>The name of the <see cref="Meter"/> every instrument belongs to (give it to <c>AddMeter</c>).</summary>
    public const string MeterName = "LinqStream";

    private const int Kept = 50;

    private readonly Meter _meter;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<PhysicalNode, OperatorCounters> _counters = new(ReferenceEqualityComparer.Instance);
    private readonly KeyValuePair<string, object?> _jobTag;
    private readonly Histogram<double> _checkpointDuration;
    private readonly Histogram<long> _checkpointSize;
    private readonly Queue<CheckpointMetrics> _checkpoints = new();
    private readonly Queue<DeadLetter> _deadLetters = new();
    private Node[] _nodes = [];
    private SourceDriver[] _sources = [];
    private (string Part, long Bytes)[] _stateSizes = [];
    private ITimer? _timer;
    private long _results;
    private long _deadLetterCount;
    private long _checkpointCount;
    private long _lastCheckpointTimestamp;
    private long _sampledAt;
    private long _sampledIn;
    private long _sampledOut;
    private double _inRate;
    private double _outRate;
    private bool _disposed;

    /// <summary>Initializes a new instance of the <see cref="JobMetrics"/> class.</summary>
    /// <param name="job">The job's name: the <c>job</c> tag of every measurement.</param>
    /// <param name="timeProvider">The clock for rates and checkpoint ages; the default is <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="job"/> is null or empty.</exception>
    public JobMetrics(string job, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(job);
        Job = job;
        _time = timeProvider ?? TimeProvider.System;
        _jobTag = new("job", job);
        _meter = new Meter(MeterName, typeof(JobMetrics).Assembly.GetName().Version?.ToString());
        _sampledAt = _time.GetTimestamp();

        _meter.CreateObservableCounter("linqstream.job.events.in", () => Job1(EventsIn()), "{event}", "Events read from the job's sources.");
        _meter.CreateObservableCounter("linqstream.job.events.out", () => Job1(Interlocked.Read(ref _results)), "{event}", "Results written to the job's sink.");
        _meter.CreateObservableGauge("linqstream.job.events.rate", () => Job1(Volatile.Read(ref _inRate)), "{event}/s", "Events read per second, over the last sample interval.");
        _meter.CreateObservableGauge<double>("linqstream.job.watermark", () => JobWatermark() is { } w ? new[] { new Measurement<double>(UnixSeconds(w), _jobTag) } : [], "s", "The job's watermark (the lowest of its sources'), in seconds since the Unix epoch.");
        _meter.CreateObservableGauge<double>("linqstream.job.watermark.lag", () => Lag() is { } lag ? new[] { new Measurement<double>(lag.TotalSeconds, _jobTag) } : [], "s", "The latest event time read minus the watermark.");
        _meter.CreateObservableCounter("linqstream.job.late_events", () => Job1(Sum(static s => s.LateEvents)), "{event}", "Events later than the ingress policy allows (dropped, adjusted or failed).");
        _meter.CreateObservableCounter("linqstream.job.dead_letters", () => Job1(Interlocked.Read(ref _deadLetterCount)), "{record}", "Records rejected into the dead letters.");
        _meter.CreateObservableGauge("linqstream.job.state.size", () => Job1(StateBytes()), "By", "Bytes of operator and source state in the last checkpoint.");
        _meter.CreateObservableCounter("linqstream.job.backpressure.blocked", () => Job1(Seconds(Sum(static s => s.BlockedTimestampTicks))), "s", "Time the sources' readers waited on full queues because the query was slower.");
        _meter.CreateObservableCounter("linqstream.job.checkpoints", () => Job1(Interlocked.Read(ref _checkpointCount)), "{checkpoint}", "Checkpoints taken.");
        _checkpointDuration = _meter.CreateHistogram<double>("linqstream.job.checkpoint.duration", "s", "Time to take and store one checkpoint.");
        _checkpointSize = _meter.CreateHistogram<long>("linqstream.job.checkpoint.size", "By", "Size of one checkpoint.");
        _meter.CreateObservableGauge<double>("linqstream.job.checkpoint.age", () => CheckpointAge() is { } age ? new[] { new Measurement<double>(age.TotalSeconds, _jobTag) } : [], "s", "Time since the last checkpoint was stored.");

        _meter.CreateObservableCounter("linqstream.operator.events.in", () => PerOperator(n => n.Inputs.Length == 0 ? SourceEvents(n) : InputEvents(n)), "{event}", "Events that reached the operator.");
        _meter.CreateObservableCounter("linqstream.operator.events.out", () => PerOperator(n => n.Counters.Out), "{event}", "Events the operator sent on.");
        _meter.CreateObservableGauge("linqstream.operator.events.rate", () => PerOperator(n => Volatile.Read(ref n.Rate)), "{event}/s", "Events the operator sent on per second, over the last sample interval.");
        _meter.CreateObservableGauge("linqstream.operator.watermark", OperatorWatermarks, "s", "The last watermark the operator sent on, in seconds since the Unix epoch.");
        _meter.CreateObservableCounter("linqstream.operator.backpressure.blocked", () => PerOperator(n => Seconds(SourceBlocked(n))), "s", "Time the operator's source reader waited on a full queue (source operators only; the others share one task and never wait).");
        _meter.CreateObservableGauge("linqstream.operator.state.size", StateSizes, "By", "Bytes of one stateful part in the last checkpoint.");

        _meter.CreateObservableCounter("linqstream.source.events.read", () => PerSource(static s => s.EventsRead), "{event}", "Events read from the source.");
        _meter.CreateObservableCounter("linqstream.source.late_events", () => PerSource(static s => s.LateEvents), "{event}", "Events of the source later than its ingress policy allows.");
        _meter.CreateObservableGauge("linqstream.source.watermark", SourceWatermarks, "s", "The source's watermark, in seconds since the Unix epoch.");
        _meter.CreateObservableCounter("linqstream.source.backpressure.blocked", () => PerSource(static s => Seconds(s.BlockedTimestampTicks)), "s", "Time the source's reader waited on a full queue.");
    }

    /// <summary>Gets the job's name (the <c>job</c> tag).</summary>
    public string Job { get; }

    /// <summary>Gets how often rates (events per second) are computed.</summary>
    /// <value>The default value is one second; from 10 ms to 1 hour.</value>
    public TimeSpan SampleInterval
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.FromMilliseconds(10));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, TimeSpan.FromHours(1));
            field = value;
        }
    } = TimeSpan.FromSeconds(1);

    /// <summary>Reads every measurement now (from any thread): job totals, each operator and source, recent checkpoints and dead letters.</summary>
    /// <returns>The snapshot.</returns>
    public JobMetricsSnapshot Snapshot()
    {
        lock (_lock)
        {
            var nodes = _nodes;
            var operators = new OperatorMetrics[nodes.Length];
            for (int i = 0; i < nodes.Length; i++)
            {
                var n = nodes[i];
                operators[i] = new OperatorMetrics(
                    n.Id, n.Name, n.Detail, n.Inputs, n.Inputs.Length == 0 ? SourceEvents(n) : InputEvents(n), n.Counters.Out, Volatile.Read(ref n.Rate),
                    Time(n.Counters.Watermark), TimeSpan.FromSeconds(Seconds(SourceBlocked(n))));
            }

            var sources = _sources.Select(s => new SourceMetrics(
                s.SourceName, s.EventsRead, s.LateEvents, Time(s.Watermark), TimeSpan.FromSeconds(Seconds(s.BlockedTimestampTicks)), s.IsCompleted)).ToArray();
            return new JobMetricsSnapshot(
                Job, _time.GetUtcNow(), EventsIn(), Interlocked.Read(ref _results), Volatile.Read(ref _inRate), Volatile.Read(ref _outRate),
                JobWatermark() is { } w ? Time(w) : null, Lag(), Sum(static s => s.LateEvents), Interlocked.Read(ref _deadLetterCount), StateBytes(),
                TimeSpan.FromSeconds(Seconds(Sum(static s => s.BlockedTimestampTicks))), operators, sources, [.. _checkpoints], CheckpointAge(),
                [.. _deadLetters]);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _timer?.Dispose();
        }

        _meter.Dispose();
    }

    /// <summary>The counters of one plan node's output; made while the plan is wired.</summary>
    internal OperatorCounters CountersOf(PhysicalNode node)
    {
        lock (_lock)
        {
            return CountersOfLocked(node);
        }
    }

    /// <summary>Binds the metrics to a wired query: numbers the plan's nodes (root first), keeps its sources, starts sampling rates.</summary>
    internal void Attach(QueryContext context, PhysicalNode root)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_timer is not null)
            {
                throw new InvalidOperationException($"These metrics ('{Job}') already measure a job; make one JobMetrics per job.");
            }

            var order = new List<PhysicalNode>();
            var ids = new Dictionary<PhysicalNode, int>(ReferenceEqualityComparer.Instance);
            var pending = new Stack<PhysicalNode>();
            pending.Push(root);
            while (pending.Count > 0)
            {
                var node = pending.Pop();
                if (ids.ContainsKey(node))
                {
                    continue;
                }

                ids.Add(node, order.Count);
                order.Add(node);
                for (int i = node.Inputs.Count - 1; i >= 0; i--)
                {
                    pending.Push(node.Inputs[i]);
                }
            }

            // Copied: the runner sorts context.Sources in place while it runs, and this list is read from other threads.
            _sources = [.. context.Sources];
            _nodes = [.. order.Select((node, id) =>
            {
                var sources = node is ISourceNode source ? _sources.Where(s => s.SourceName == source.SourceName).ToArray() : [];
                return new Node(id, node.Name, node.Detail, [.. node.Inputs.Select(i => ids[i])], CountersOfLocked(node), [.. node.Inputs.Select(CountersOfLocked)], sources);
            })];
            _sampledAt = _time.GetTimestamp();
            _timer = _time.CreateTimer(_ => Sample(), null, SampleInterval, SampleInterval);
        }
    }

    private OperatorCounters CountersOfLocked(PhysicalNode node)
    {
        if (!_counters.TryGetValue(node, out var counters))
        {
            counters = new OperatorCounters();
            _counters.Add(node, counters);
        }

        return counters;
    }

    internal void AddResults(long count) => Interlocked.Add(ref _results, count);

    internal void AddDeadLetters(IReadOnlyList<DeadLetter> letters)
    {
        Interlocked.Add(ref _deadLetterCount, letters.Count);
        lock (_lock)
        {
            foreach (var letter in letters.Count > Kept ? letters.Skip(letters.Count - Kept) : letters)
            {
                Keep(_deadLetters, letter);
            }
        }
    }

    /// <summary>Records the size of each stateful part as written into a checkpoint.</summary>
    internal void StateWritten(IReadOnlyList<(string Part, long Bytes)> parts)
    {
        lock (_lock)
        {
            _stateSizes = [.. parts];
        }
    }

    internal void CheckpointTaken(long id, long bytes, TimeSpan duration, TimeSpan? alignment = null)
    {
        Interlocked.Increment(ref _checkpointCount);
        Volatile.Write(ref _lastCheckpointTimestamp, _time.GetTimestamp());
        _checkpointDuration.Record(duration.TotalSeconds, _jobTag);
        _checkpointSize.Record(bytes, _jobTag);
        lock (_lock)
        {
            Keep(_checkpoints, new CheckpointMetrics(id, _time.GetUtcNow(), duration, bytes) { BarrierAlignment = alignment });
        }
    }

    private static void Keep<TItem>(Queue<TItem> queue, TItem item)
    {
        if (queue.Count == Kept)
        {
            queue.Dequeue();
        }

        queue.Enqueue(item);
    }

    private static double Seconds(long stopwatchTicks) => (double)stopwatchTicks / Stopwatch.Frequency;

    private static double UnixSeconds(long ticks) => (ticks - DateTimeOffset.UnixEpoch.UtcTicks) / (double)TimeSpan.TicksPerSecond;

    private static DateTimeOffset? Time(long ticks) =>
        ticks is Ticks.MinusInfinity or Ticks.Infinity || ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks
            ? null
            : new DateTimeOffset(ticks, TimeSpan.Zero);

    private static long InputEvents(Node node)
    {
        // Events into an operator are what its inputs sent out.
        long total = 0;
        foreach (var input in node.InputCounters)
        {
            total += input.Out;
        }

        return total;
    }

    private static long SourceEvents(Node node) => SourceDriver.EventsReadBy(node.Sources);

    private static long SourceBlocked(Node node)
    {
        long total = 0;
        foreach (var source in node.Sources)
        {
            total += source.BlockedTimestampTicks;
        }

        return total;
    }

    private void Sample()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            long now = _time.GetTimestamp();
            double seconds = _time.GetElapsedTime(_sampledAt, now).TotalSeconds;
            if (seconds <= 0)
            {
                return;
            }

            long eventsIn = EventsIn(), eventsOut = Interlocked.Read(ref _results);
            Volatile.Write(ref _inRate, (eventsIn - _sampledIn) / seconds);
            Volatile.Write(ref _outRate, (eventsOut - _sampledOut) / seconds);
            foreach (var node in _nodes)
            {
                long sent = node.Counters.Out;
                Volatile.Write(ref node.Rate, (sent - node.SampledOut) / seconds);
                node.SampledOut = sent;
            }

            (_sampledAt, _sampledIn, _sampledOut) = (now, eventsIn, eventsOut);
        }
    }

    private long EventsIn() => Sum(static s => s.EventsRead);

    private long Sum(Func<SourceDriver, long> value)
    {
        long total = 0;
        foreach (var source in _sources)
        {
            total += value(source);
        }

        return total;
    }

    private long? JobWatermark()
    {
        var sources = _sources;
        if (sources.Length == 0)
        {
            return null;
        }

        long watermark = Ticks.Infinity;
        foreach (var source in sources)
        {
            watermark = Math.Min(watermark, source.Watermark);
        }

        return watermark == Ticks.MinusInfinity ? null : watermark;
    }

    private TimeSpan? Lag()
    {
        if (JobWatermark() is not { } watermark)
        {
            return null;
        }

        long latest = Ticks.MinusInfinity;
        foreach (var source in _sources)
        {
            latest = Math.Max(latest, source.MaxEventTime);
        }

        // A completed job's watermark is +infinity: nothing is held back.
        return watermark == Ticks.Infinity || latest == Ticks.MinusInfinity ? TimeSpan.Zero : TimeSpan.FromTicks(Math.Max(0, latest - watermark));
    }

    private TimeSpan? CheckpointAge()
    {
        long last = Volatile.Read(ref _lastCheckpointTimestamp);
        return last == 0 ? null : _time.GetElapsedTime(last);
    }

    private long StateBytes()
    {
        long total = 0;
        foreach (var (_, bytes) in _stateSizes)
        {
            total += bytes;
        }

        return total;
    }

    private Measurement<T>[] Job1<T>(T value)
        where T : struct => [new Measurement<T>(value, _jobTag)];

    private Measurement<T>[] PerOperator<T>(Func<Node, T> value)
        where T : struct
    {
        var nodes = _nodes;
        var measurements = new Measurement<T>[nodes.Length];
        for (int i = 0; i < nodes.Length; i++)
        {
            measurements[i] = new Measurement<T>(value(nodes[i]), _jobTag, new("operator", nodes[i].Label));
        }

        return measurements;
    }

    private Measurement<T>[] PerSource<T>(Func<SourceDriver, T> value)
        where T : struct
    {
        var sources = _sources;
        var measurements = new Measurement<T>[sources.Length];
        for (int i = 0; i < sources.Length; i++)
        {
            measurements[i] = new Measurement<T>(value(sources[i]), _jobTag, new("source", sources[i].SourceName));
        }

        return measurements;
    }

    private IEnumerable<Measurement<double>> OperatorWatermarks()
    {
        foreach (var node in _nodes)
        {
            long watermark = node.Counters.Watermark;
            if (watermark != Ticks.MinusInfinity && watermark != Ticks.Infinity)
            {
                yield return new Measurement<double>(UnixSeconds(watermark), _jobTag, new("operator", node.Label));
            }
        }
    }

    private IEnumerable<Measurement<double>> SourceWatermarks()
    {
        foreach (var source in _sources)
        {
            long watermark = source.Watermark;
            if (watermark != Ticks.MinusInfinity && watermark != Ticks.Infinity)
            {
                yield return new Measurement<double>(UnixSeconds(watermark), _jobTag, new("source", source.SourceName));
            }
        }
    }

    private IEnumerable<Measurement<long>> StateSizes()
    {
        foreach (var (part, bytes) in _stateSizes)
        {
            yield return new Measurement<long>(bytes, _jobTag, new("part", part));
        }
    }

    /// <summary>One node of the plan as measured: its counters, and for a source node the readers of that source.</summary>
    private sealed class Node(int id, string name, string detail, int[] inputs, OperatorCounters counters, OperatorCounters[] inputCounters, SourceDriver[] sources)
    {
        public double Rate;
        public long SampledOut;

        public int Id { get; } = id;

        public string Name { get; } = name;

        public string Detail { get; } = detail;

        public string Label { get; } = $"{id} {name}";

        public int[] Inputs { get; } = inputs;

        public OperatorCounters Counters { get; } = counters;

        public SourceDriver[] Sources { get; } = sources;

        public OperatorCounters[] InputCounters { get; } = inputCounters;
    }
}
