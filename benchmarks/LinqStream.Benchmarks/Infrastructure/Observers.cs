namespace LinqStream.Benchmarks.Infrastructure;

/// <summary>Keeps every result, for the answer checks (never used in a measured method).</summary>
public sealed class CollectingObserver<T> : IObserver<T>
{
    public List<T> Results { get; } = [];

    public Exception? Error { get; private set; }

    public bool Completed { get; private set; }

    public void OnCompleted() => Completed = true;

    public void OnError(Exception error) => Error = error;

    public void OnNext(T value) => Results.Add(value);

    /// <summary>The results, or the error the query ended with.</summary>
    public List<T> ResultsOrThrow() => Error is null ? Results : throw new InvalidOperationException("The query failed: " + Error.Message, Error);
}

/// <summary>Counts results and lets the caller wait for the end: for queries over live sources (an IObservable), which run on their own thread.</summary>
public sealed class CompletionObserver<T> : IObserver<T>, IDisposable
{
    private readonly ManualResetEventSlim _done = new();
    private Exception? _error;

    public long Count { get; private set; }

    public void OnCompleted() => _done.Set();

    public void OnError(Exception error)
    {
        _error = error;
        _done.Set();
    }

    public void OnNext(T value) => Count++;

    /// <summary>Blocks until the query completes; rethrows its error.</summary>
    public long Wait()
    {
        _done.Wait();
        return _error is null ? Count : throw new InvalidOperationException("The query failed: " + _error.Message, _error);
    }

    public void Dispose() => _done.Dispose();
}
