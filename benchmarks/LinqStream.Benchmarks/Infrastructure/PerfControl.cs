namespace LinqStream.Benchmarks.Infrastructure;

/// <summary>
/// Turns a <c>perf record --control fifo:CTL,ACK -D -1</c> on or off from inside the process, when <c>LINQSTREAM_PERF_CTL</c> and
/// <c>LINQSTREAM_PERF_ACK</c> name its fifos, so a profile holds only the measured runs (not the set-up, the answer checks or the
/// warm-ups). Does nothing without them.
/// </summary>
internal static class PerfControl
{
    /// <summary>Gets a value indicating whether a perf record waits for this process's commands.</summary>
    public static bool Attached => Environment.GetEnvironmentVariable("LINQSTREAM_PERF_CTL") is { Length: > 0 } && Environment.GetEnvironmentVariable("LINQSTREAM_PERF_ACK") is { Length: > 0 };

    /// <summary>Enables or disables the recording and waits for perf's acknowledgement.</summary>
    public static void Set(bool enable)
    {
        if (Environment.GetEnvironmentVariable("LINQSTREAM_PERF_CTL") is not { Length: > 0 } control
            || Environment.GetEnvironmentVariable("LINQSTREAM_PERF_ACK") is not { Length: > 0 } ack)
        {
            return;
        }

        File.WriteAllText(control, enable ? "enable\n" : "disable\n");
        using var reader = new StreamReader(ack);
        reader.ReadLine();
    }
}
