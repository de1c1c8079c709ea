using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace LinqStream.Parallel;

/// <summary>
/// When one checkpoint barrier passed each point of a keyed parallel run (<see cref="Stopwatch"/> timestamps; 0 when it did not
/// pass there): each slot is written once, by the one thread that passes that point, and read by the job after the checkpoint.
/// </summary>
/// <remarks>
/// <see cref="Alignment"/> is Flink's alignment: at a task with several inputs, the time from its first input's barrier to its last
/// one's; the run's is the longest at any of its tasks (an aggregate task over its S source channels, the merge over the P tasks).
/// What comes before the first barrier reaches a task (the source tasks serving the request between two steps, the data queued
/// ahead of the barrier in the channels) is the start delay (<see cref="StartDelay"/>), as Flink reports it apart.
/// </remarks>
internal sealed class BarrierTimeline
{
    public BarrierTimeline(long id, long requestedAt, int sourceTasks, int tasks)
    {
        Id = id;
        RequestedAt = requestedAt;
        SourceNoticed = new long[sourceTasks];
        SourceSent = new long[sourceTasks];
        SourceResumed = new long[sourceTasks];
        TaskFirst = new long[tasks];
        TaskAligned = new long[tasks];
        TaskPassed = new long[tasks];
        TaskWritten = new long[tasks];
        MergeSeen = new long[tasks];
    }

    /// <summary>Gets the barrier's number.</summary>
    public long Id { get; }

    /// <summary>Gets when the job asked for the barrier.</summary>
    public long RequestedAt { get; }

    /// <summary>Gets when each source task saw the request: at the end of the step it was in (a step reads one batch and pushes it
    /// through the source task's operators and the exchange, waiting for channel space when a task is behind).</summary>
    public long[] SourceNoticed { get; }

    /// <summary>Gets when each source task had written its parts (and a two-phase local phase had shipped its table) and began to send the barrier into every task's channel.</summary>
    public long[] SourceSent { get; }

    /// <summary>Gets when each source task went on reading after the barrier: at once, or once the barrier was through the tasks and the merge (<see cref="QueryOptions.SourcesWaitAtBarrier"/>).</summary>
    public long[] SourceResumed { get; }

    /// <summary>Gets when each aggregate task took the barrier of its first input channel.</summary>
    public long[] TaskFirst { get; }

    /// <summary>Gets when each aggregate task had the barrier from every open input channel (aligned).</summary>
    public long[] TaskAligned { get; }

    /// <summary>Gets when each aggregate task began to pass the barrier into its output channel (before the merge can take it).</summary>
    public long[] TaskPassed { get; }

    /// <summary>Gets when each aggregate task had written its key groups (after passing the barrier on).</summary>
    public long[] TaskWritten { get; }

    /// <summary>Gets when the merge (or the task's own sink) took each task's barrier.</summary>
    public long[] MergeSeen { get; }

    /// <summary>Gets the longest first-to-last barrier time at an aggregate task (zero with one source task).</summary>
    public TimeSpan TaskAlignment
    {
        get
        {
            long longest = 0;
            for (int t = 0; t < TaskFirst.Length; t++)
            {
                long first = Volatile.Read(ref TaskFirst[t]), aligned = Volatile.Read(ref TaskAligned[t]);
                if (first != 0 && aligned != 0)
                {
                    longest = Math.Max(longest, aligned - first);
                }
            }

            return Stopwatch.GetElapsedTime(0, longest);
        }
    }

    /// <summary>Gets the first-to-last barrier time at the merge (zero when it saw fewer than two, or there is no merge).</summary>
    public TimeSpan MergeAlignment
    {
        get
        {
            var (first, last) = Span(MergeSeen);
            return first == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(first, last);
        }
    }

    /// <summary>Gets Flink's alignment for this barrier: the longest first-to-last barrier time at any task of the run.</summary>
    public TimeSpan Alignment => TaskAlignment > MergeAlignment ? TaskAlignment : MergeAlignment;

    /// <summary>Gets the time from the request until the first aggregate task took a barrier (zero when none did).</summary>
    public TimeSpan StartDelay
    {
        get
        {
            long first = long.MaxValue;
            for (int t = 0; t < TaskFirst.Length; t++)
            {
                long time = Volatile.Read(ref TaskFirst[t]);
                first = time == 0 ? first : Math.Min(first, time);
            }

            return first == long.MaxValue ? TimeSpan.Zero : Stopwatch.GetElapsedTime(RequestedAt, Math.Max(RequestedAt, first));
        }
    }

    /// <summary>A one-line breakdown in milliseconds after the request: where the barrier was when (benchmarks, diagnostics).</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"barrier {Id}: alignment {Alignment.TotalMilliseconds:F1} ms (tasks {TaskAlignment.TotalMilliseconds:F1}, merge {MergeAlignment.TotalMilliseconds:F1}); after the request, ms:");
        Append("sources noticed", SourceNoticed);
        Append("sources sent", SourceSent);
        Append("sources resumed", SourceResumed);
        Append("tasks' first barrier", TaskFirst);
        Append("aligned", TaskAligned);
        Append("passed on", TaskPassed);
        Append("key groups written", TaskWritten);
        Append("merge (or each sink) took", MergeSeen);
        return text.ToString();

        void Append(string what, long[] times)
        {
            text.Append(' ').Append(what);
            foreach (long time in times)
            {
                text.Append(time == 0 ? " -" : string.Create(CultureInfo.InvariantCulture, $" {Stopwatch.GetElapsedTime(RequestedAt, Math.Max(RequestedAt, time)).TotalMilliseconds:F1}"));
            }

            text.Append(';');
        }
    }

    /// <summary>Records <paramref name="at"/> in slot <paramref name="index"/> of <paramref name="times"/> (once: the first time counts).</summary>
    public static void Mark(long[] times, int index, long at)
    {
        if (Volatile.Read(ref times[index]) == 0)
        {
            Volatile.Write(ref times[index], at);
        }
    }

    /// <summary>The earliest and latest of the recorded times (0, 0 when fewer than two were recorded).</summary>
    private static (long First, long Last) Span(long[] times)
    {
        long first = long.MaxValue, last = long.MinValue;
        int seen = 0;
        for (int i = 0; i < times.Length; i++)
        {
            long time = Volatile.Read(ref times[i]);
            if (time != 0)
            {
                seen++;
                first = Math.Min(first, time);
                last = Math.Max(last, time);
            }
        }

        return seen < 2 ? (0, 0) : (first, last);
    }
}
