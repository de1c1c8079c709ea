namespace LinqStream.Benchmarks.Scenarios.Nexmark;

/// <summary>Window arithmetic for the models and hand-written loops: epoch-aligned, in ticks, for times after 1970.</summary>
public static class EventTime
{
    /// <summary>The start of the epoch-aligned window of <paramref name="size"/> that holds <paramref name="ticks"/>.</summary>
    public static long WindowStart(long ticks, TimeSpan size) => ticks - ((ticks - DateTime.UnixEpoch.Ticks) % size.Ticks);

    /// <summary>The starts of every epoch-aligned window of <paramref name="size"/> every <paramref name="hop"/> that holds <paramref name="ticks"/>.</summary>
    public static IEnumerable<long> HoppingWindowStarts(long ticks, TimeSpan size, TimeSpan hop)
    {
        for (long s = WindowStart(ticks, hop); s > ticks - size.Ticks; s -= hop.Ticks)
        {
            yield return s;
        }
    }
}
