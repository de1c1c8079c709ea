namespace LinqStream.Cli.Showcase;

/// <summary>Runs a query over finite sources with <c>Subscribe</c> (which returns when the sources are exhausted) and hands each result to a callback.</summary>
internal sealed class ResultObserver<T>(Action<T> onNext) : IObserver<T>
{
    private Exception? _error;

    public long Count { get; private set; }

    /// <summary>Runs <paramref name="query"/> to the end; rethrows the query's error, if any.</summary>
    public static long Drain(IQStream<T> query, Action<T> onNext)
    {
        var observer = new ResultObserver<T>(onNext);
        using (query.Subscribe(observer))
        {
        }

        if (observer._error is not null)
        {
            throw new InvalidOperationException($"The query failed: {observer._error.Message}", observer._error);
        }

        return observer.Count;
    }

    public void OnCompleted()
    {
    }

    public void OnError(Exception error) => _error = error;

    public void OnNext(T value)
    {
        Count++;
        onNext(value);
    }
}
