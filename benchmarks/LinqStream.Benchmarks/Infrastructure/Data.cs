namespace LinqStream.Benchmarks.Infrastructure;

/// <summary>A point event with a key and a value: the shape of every micro-benchmark's input.</summary>
public readonly record struct Tick(long Time, int Key, long Value);

/// <summary>Deterministic inputs, generated once per benchmark class (never inside the measured part).</summary>
public static class Data
{
    public const long Origin = 621_355_968_000_000_000L + 1_000_000_000_000L; // after the Unix epoch, in ticks

    /// <summary><paramref name="count"/> events one tick apart, keys uniform in [0, keys), values in [0, 1000).</summary>
    public static Tick[] Ticks(int count, int keys, int seed = 42)
    {
        var random = new Random(seed);
        var data = new Tick[count];
        for (int i = 0; i < count; i++)
        {
            data[i] = new Tick(Origin + i, random.Next(keys), random.Next(1000));
        }

        return data;
    }
}

/// <summary>Counts results so the JIT cannot drop the work; the same sink for LinqStream and Rx.</summary>
public sealed class CountingObserver<T> : IObserver<T>
{
    public long Count { get; private set; }

    public void OnCompleted()
    {
    }

    public void OnError(Exception error) => throw error;

    public void OnNext(T value) => Count++;
}
