namespace LinqStream.Connectors.Tests.Servers;

/// <summary>Reads a source to a count while another task hurts its server each time the reader passes a threshold.</summary>
public static class FaultyReading
{
    /// <summary>
    /// Reads until <paramref name="count"/> events arrived (or the source ended), calling <paramref name="fault"/> on a pool thread
    /// when <paramref name="position"/> first passes each of <paramref name="thresholds"/>; fails after <paramref name="timeout"/>.
    /// </summary>
    public static async Task<List<T>> ReadAsync<T>(
        EventSource<T> source, int count, Func<long> position, long[] thresholds, Action<int> fault, TimeSpan timeout, int bufferSize = 4096)
    {
        using var cts = new CancellationTokenSource(timeout);
        var events = new List<T>();
        int next = 0;
        var faults = Task.Run(async () =>
        {
            while (next < thresholds.Length && !cts.IsCancellationRequested)
            {
                if (position() >= thresholds[next])
                {
                    fault(next);
                    next++;
                }
                else
                {
                    await Task.Delay(1, CancellationToken.None);
                }
            }
        });

        var buffer = new T[bufferSize];
        try
        {
            while (events.Count < count)
            {
                var read = await source.ReadAsync(buffer, cts.Token);
                events.AddRange(buffer.AsSpan(0, read.Count));
                if (read.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"Read {events.Count} of {count} events in {timeout.TotalSeconds} s, after {next} of {thresholds.Length} faults.");
        }
        finally
        {
            await cts.CancelAsync();
            await faults;
        }

        return events;
    }
}
