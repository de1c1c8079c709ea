using System.Diagnostics.Tracing;
using System.Globalization;

namespace LinqStream.Benchmarks.Profiling;

/// <summary>
/// What a run allocated and how its collections paused it, from the runtime's own events in process: the sampled allocations
/// (<c>GCAllocationTick</c>, one event per ~100 KB allocated on a thread) by type and by the allocating thread's name, and per
/// collection its generation and the time from the suspension's start to the restart's end, split into suspending the threads
/// (waiting for every managed thread to reach a safe point) and the rest. Used by <c>--parallelism --alloc</c>: where a P = 2
/// run's extra bytes and pauses come from.
/// </summary>
internal sealed class AllocationListener : EventListener
{
    private const double TickBytes = 100 * 1024; // GCAllocationTick fires about once per 100 KB a thread allocates
    private readonly Dictionary<string, double> _byType = [];
    private readonly Dictionary<string, double> _byThread = [];
    private readonly Dictionary<int, string> _threadNames = [];
    private readonly List<(int Generation, double SuspendMs, double PauseMs)> _collections = [];
    private DateTime _suspendBegin;
    private DateTime _suspendEnd;
    private int _generation = -1;
    private volatile bool _listening = true;

    /// <summary>Stops listening and describes what was seen, per event of the run.</summary>
    public string Describe(long events, int top = 12)
    {
        _listening = false;
        lock (_byType)
        {
            double total = _byType.Values.Sum();
            string types = string.Join("; ", _byType.OrderByDescending(t => t.Value).Take(top)
                .Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Key} {t.Value / events:F2}")));
            string threads = string.Join("; ", _byThread.OrderByDescending(t => t.Value).Take(6)
                .Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Key} {t.Value / events:F2}")));
            string collections = string.Join(", ", _collections.GroupBy(c => c.Generation).OrderBy(g => g.Key)
                .Select(g => string.Create(CultureInfo.InvariantCulture, $"{(g.Key < 0 ? "no GC (runtime suspension)" : "gen" + g.Key.ToString(CultureInfo.InvariantCulture))} ×{g.Count()} suspend {g.Sum(c => c.SuspendMs):F1} ms pause {g.Sum(c => c.PauseMs):F1} ms (longest {g.Max(c => c.PauseMs):F1})")));
            return string.Create(CultureInfo.InvariantCulture, $"sampled {total / events:F2} B/event; by type: {types}; by thread: {threads}; collections: {(collections.Length == 0 ? "none" : collections)}");
        }
    }

    /// <inheritdoc/>
    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)0x1); // GCKeyword: allocation ticks, collections, suspensions
        }
    }

    /// <inheritdoc/>
    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_listening || eventData.EventName is not { } name)
        {
            return;
        }

        lock (_byType)
        {
            if (name.StartsWith("GCAllocationTick", StringComparison.Ordinal) && eventData.Payload is { } payload)
            {
                int at = eventData.PayloadNames!.IndexOf("TypeName");
                string type = at >= 0 ? payload[at] as string ?? "?" : "?";
                _byType[type] = _byType.GetValueOrDefault(type) + TickBytes;
                string thread = ThreadName((int)eventData.OSThreadId);
                _byThread[thread] = _byThread.GetValueOrDefault(thread) + TickBytes;
            }
            else if (name.StartsWith("GCSuspendEEBegin", StringComparison.Ordinal))
            {
                _suspendBegin = eventData.TimeStamp;
            }
            else if (name.StartsWith("GCSuspendEEEnd", StringComparison.Ordinal))
            {
                _suspendEnd = eventData.TimeStamp;
            }
            else if (name.StartsWith("GCStart", StringComparison.Ordinal) && eventData.Payload is { } start)
            {
                int at = eventData.PayloadNames!.IndexOf("Depth");
                _generation = at >= 0 ? Convert.ToInt32(start[at], CultureInfo.InvariantCulture) : -1;
            }
            else if (name.StartsWith("GCRestartEEEnd", StringComparison.Ordinal) && _suspendBegin != default)
            {
                _collections.Add((_generation, (_suspendEnd - _suspendBegin).TotalMilliseconds, (eventData.TimeStamp - _suspendBegin).TotalMilliseconds));
                _suspendBegin = default;
                _generation = -1;
            }
        }
    }

    private string ThreadName(int id)
    {
        if (!_threadNames.TryGetValue(id, out var thread))
        {
            try
            {
                thread = File.ReadAllText($"/proc/self/task/{id}/comm").Trim();
            }
            catch (IOException)
            {
                thread = "?";
            }

            _threadNames[id] = thread;
        }

        return thread;
    }
}
