namespace LinqStream.Conformance.Tests.Infrastructure;

/// <summary>One run of a crash/restore loop (the spilled joins' tests): the source fails at <c>crashAt</c>, or the last run completes.</summary>
internal static class CrashRuns
{
    /// <summary>
    /// Runs <paramref name="job"/>: with <paramref name="crashAt"/> -1 it must complete, restored from <paramref name="lastSaved"/>;
    /// otherwise it must fail with the simulated crash. Returns the newest checkpoint <paramref name="store"/> holds after the run.
    /// </summary>
    public static async Task<long?> RunAsync<T>(QueryJob<T> job, int crashAt, long? lastSaved, DirectoryCheckpointStore store)
    {
        try
        {
            var result = await job.RunAsync();
            Assert.Equal(-1, crashAt);
            Assert.Equal(lastSaved, result.RestoredFrom);
            return lastSaved;
        }
        catch (QueryExecutionException ex) when (crashAt >= 0)
        {
            Assert.Contains("Simulated crash", ex.ToString(), StringComparison.Ordinal);
            return store.List() is { Count: > 0 } saved ? saved.Max() : null;
        }
    }
}
