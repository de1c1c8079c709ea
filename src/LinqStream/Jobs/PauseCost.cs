using System.Runtime;

namespace LinqStream;

/// <summary>
/// What happened in the process while a checkpoint held the job's loop (measurements: why issue #18's first checkpoint paused the
/// query 480 ms when the others took a few): methods compiled by the JIT and the time it took, on the loop's thread and in the
/// whole process, and the garbage collections with their pause.
/// </summary>
/// <param name="ThreadJit">JIT compilation time on the thread that took the cut (zero when the pause ended on another thread).</param>
/// <param name="ThreadMethods">Methods the JIT compiled on that thread (-1 when the pause ended on another thread).</param>
/// <param name="Jit">JIT compilation time in the whole process (includes the background tier-1 compilations).</param>
/// <param name="Collections">Garbage collections that started.</param>
/// <param name="GcPause">Time the GC suspended the process.</param>
internal readonly record struct PauseCost(TimeSpan ThreadJit, long ThreadMethods, TimeSpan Jit, int Collections, TimeSpan GcPause)
{
    private int Thread { get; init; }

    /// <summary>The counters now, to subtract from at the end of the pause (cheap: a few reads, once per checkpoint).</summary>
    public static PauseCost Now() => new(
        JitInfo.GetCompilationTime(currentThread: true),
        JitInfo.GetCompiledMethodCount(currentThread: true),
        JitInfo.GetCompilationTime(currentThread: false),
        GC.CollectionCount(0),
        GC.GetTotalPauseDuration()) { Thread = Environment.CurrentManagedThreadId };

    /// <summary>What happened since <paramref name="start"/> (taken with <see cref="Now"/>).</summary>
    public static PauseCost Since(PauseCost start)
    {
        var now = Now();
        bool sameThread = now.Thread == start.Thread;
        return new(
            sameThread ? now.ThreadJit - start.ThreadJit : TimeSpan.Zero,
            sameThread ? now.ThreadMethods - start.ThreadMethods : -1,
            now.Jit - start.Jit,
            now.Collections - start.Collections,
            now.GcPause - start.GcPause);
    }
}
