using System.Runtime.CompilerServices;

namespace LinqStream.Connectors.Tests.Servers;

/// <summary>Drives an <see cref="EventSource{T}"/> the way the engine does: open once, then batched reads on one task.</summary>
public static class SourceDriving
{
    public static SourceContext Context(IDeadLetterSink? deadLetters = null) =>
        new(deadLetters ?? new RecordingDeadLetters(), TimeProvider.System);

    /// <summary>Reads until <paramref name="count"/> events arrived or the source ended; fails after <paramref name="timeout"/>.</summary>
    public static async Task<(List<T> Events, int Reads)> ReadAsync<T>(EventSource<T> source, int count, int bufferSize = 256, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        var buffer = new T[bufferSize];
        var events = new List<T>();
        int reads = 0;
        while (events.Count < count)
        {
            var read = await source.ReadAsync(buffer, cts.Token);
            if (read.Count > 0)
            {
                reads++;
            }

            events.AddRange(buffer.AsSpan(0, read.Count));
            if (read.IsCompleted)
            {
                break;
            }
        }

        return (events, reads);
    }

    /// <summary>An opened source as an async sequence, for <c>QStream.From(IAsyncEnumerable)</c>.</summary>
    public static async IAsyncEnumerable<T> AsAsyncEnumerable<T>(this EventSource<T> source, SourceContext context, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await source.OpenAsync(context, null, cancellationToken);
        var buffer = new T[1024];
        while (true)
        {
            var read = await source.ReadAsync(buffer, cancellationToken);
            for (int i = 0; i < read.Count; i++)
            {
                yield return buffer[i];
            }

            if (read.IsCompleted)
            {
                yield break;
            }
        }
    }
}
