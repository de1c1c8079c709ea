using System.Diagnostics;

namespace LinqStream.Benchmarks.Scenarios.Connectors;

/// <summary>
/// Wraps a source and notes this process's CPU time (every thread: the source, the query, the sink, the GC) when the events read
/// first pass <see cref="Mark"/>, and again when the source ends: the CPU per event between the two is the steady state, without
/// the per-job start-up (connecting, compiling the query, the JIT's tier-1 work on what the job touches first).
/// </summary>
/// <typeparam name="T">The event type.</typeparam>
/// <remarks>One await per batch on top of the source's own (never per event); the two CPU readings are a <c>/proc</c> read each.</remarks>
public sealed class CpuMarkingSource<T>(EventSource<T> inner, long mark) : EventSource<T>
{
    private long _events;
    private Dictionary<string, long> _markedTieringCpu = []; // the runtime's tier-up threads' CPU at the first reading (ConnectorCpuRun.TieringCpu)
    private Dictionary<string, long> _endTieringCpu = [];

    /// <summary>Gets the wrapped source.</summary>
    public EventSource<T> Inner => inner;

    /// <summary>Gets how many events must be read before the first reading is taken.</summary>
    public long Mark => mark;

    /// <summary>Gets the events read when the first reading was taken (0 before).</summary>
    public long MarkedEvents { get; private set; }

    /// <summary>Gets the process CPU time at the first reading.</summary>
    public TimeSpan MarkedCpu { get; private set; }

    /// <summary>Gets the events read when the source ended (0 before).</summary>
    public long EndEvents { get; private set; }

    /// <summary>Gets the process CPU time when the source ended.</summary>
    public TimeSpan EndCpu { get; private set; }


    /// <summary>Gets the CPU per event in microseconds between the mark and the end, or NaN when the source did not get that far.</summary>
    public double SteadyMicrosecondsPerEvent =>
        EndEvents > MarkedEvents && MarkedEvents > 0 ? (EndCpu - MarkedCpu).TotalMilliseconds * 1000 / (EndEvents - MarkedEvents) : double.NaN;

    /// <summary>
    /// Gets <see cref="SteadyMicrosecondsPerEvent"/> without the CPU of the runtime's tier-up thread over the same span: what a job that
    /// runs long enough for its code to reach tier 1 pays per event (a job of 1M events still recompiles its query's methods there).
    /// </summary>
    public double SteadyWithoutTieringMicrosecondsPerEvent =>
        EndEvents > MarkedEvents && MarkedEvents > 0
            ? ((EndCpu - MarkedCpu) - ConnectorCpuRun.TieringCpuBetween(_markedTieringCpu, _endTieringCpu)).TotalMilliseconds * 1000 / (EndEvents - MarkedEvents)
            : double.NaN;

    /// <inheritdoc/>
    public override string Name => inner.Name;

    /// <inheritdoc/>
    public override bool CanReplay => inner.CanReplay;

    /// <inheritdoc/>
    public override ValueTask OpenAsync(SourceContext context, byte[]? position, CancellationToken cancellationToken) =>
        inner.OpenAsync(context, position, cancellationToken);

    /// <inheritdoc/>
    public override async ValueTask<SourceRead> ReadAsync(Memory<T> buffer, CancellationToken cancellationToken)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        _events += read.Count;
        if (MarkedEvents == 0 && _events >= mark)
        {
            MarkedEvents = _events;
            MarkedCpu = Cpu();
            _markedTieringCpu = ConnectorCpuRun.TieringCpu();
        }

        if (read.IsCompleted)
        {
            EndEvents = _events;
            EndCpu = Cpu();
            _endTieringCpu = ConnectorCpuRun.TieringCpu();
        }

        return read;
    }

    /// <inheritdoc/>
    public override byte[] GetPosition() => inner.GetPosition();

    /// <inheritdoc/>
    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private static TimeSpan Cpu()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }
}
