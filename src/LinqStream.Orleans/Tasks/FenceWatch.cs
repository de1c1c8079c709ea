namespace LinqStream.Orleans.Tasks;

/// <summary>Stops a task once the job's fence holds a newer epoch (a rollback or a take-over made it a zombie); runs on the thread pool, outside the grain.</summary>
internal static class FenceWatch
{
    public static async Task RunAsync(JobRegistry registry, TaskSpec spec, TimeSpan period, TimeProvider time, Func<bool> stopped, Action stop, CancellationToken token)
    {
        try
        {
            using var timer = new PeriodicTimer(period, time);
            while (await timer.WaitForNextTickAsync(token).ConfigureAwait(false) && !stopped())
            {
                long current;
                try
                {
                    current = await registry.CurrentEpochAsync(spec.JobId).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException)
                {
                    continue; // the next tick reads again
                }

                if (current > spec.Epoch)
                {
                    stop();
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The grain was deactivated.
        }
    }
}
