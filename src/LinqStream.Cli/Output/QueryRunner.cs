using System.Reflection;

namespace LinqStream.Cli.Output;

/// <summary>Runs a query whose result type is known only at run time (the script's last expression) to the end, into a sink.</summary>
internal static class QueryRunner
{
    private static readonly MethodInfo s_explain = typeof(QStream).GetMethod(nameof(QStream.Explain))!;
    private static readonly MethodInfo s_drain = typeof(QueryRunner).GetMethod(nameof(Drain), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo s_drainLive = typeof(QueryRunner).GetMethod(nameof(DrainLive), BindingFlags.NonPublic | BindingFlags.Static)!;

    /// <summary>Gets the <c>T</c> of an <c>IQStream&lt;T&gt;</c> value, or null when <paramref name="query"/> is not one.</summary>
    public static Type? ResultType(object? query) =>
        query?.GetType().GetInterfaces().Append(query.GetType())
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IQStream<>))?.GetGenericArguments()[0];

    /// <summary>The plans of an <c>IQStream&lt;T&gt;</c> value (<c>Explain()</c>), or null when <paramref name="query"/> is not one.</summary>
    public static string? Explain(object? query)
    {
        var type = ResultType(query);
        if (type is null)
        {
            return null;
        }

        try
        {
            return (string)s_explain.MakeGenericMethod(type).Invoke(null, [query])!;
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex.InnerException);
            throw;
        }
    }

    /// <summary>Subscribes to <paramref name="query"/> (which returns once finite sources are exhausted) and writes every result to <paramref name="sink"/>.</summary>
    /// <returns>The number of results, and the query's error (thrown by Subscribe or sent as OnError), if any.</returns>
    public static (long Results, Exception? Error) Run(object query, IResultSink sink)
    {
        var type = ResultType(query) ?? throw new ArgumentException("Not an IQStream<T>.", nameof(query));
        try
        {
            return ((long, Exception?))s_drain.MakeGenericMethod(type).Invoke(null, [query, sink])!;
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            return (0, ex.InnerException);
        }
    }

    /// <summary>
    /// Subscribes to a query over live sources (which runs in the background) and waits until it ends, fails or
    /// <paramref name="cancellationToken"/> fires (Ctrl+C while following a stream: the results so far stand).
    /// </summary>
    /// <returns>The number of results, and the query's error, if any.</returns>
    public static async Task<(long Results, Exception? Error)> RunLiveAsync(object query, IResultSink sink, CancellationToken cancellationToken)
    {
        var type = ResultType(query) ?? throw new ArgumentException("Not an IQStream<T>.", nameof(query));
        try
        {
            return await ((Task<(long, Exception?)>)s_drainLive.MakeGenericMethod(type).Invoke(null, [query, sink, cancellationToken])!).ConfigureAwait(false);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            return (0, ex.InnerException);
        }
    }

    private static async Task<(long Results, Exception? Error)> DrainLive<T>(IQStream<T> query, IResultSink sink, CancellationToken cancellationToken)
    {
        var observer = new SinkObserver<T>(sink);
        try
        {
            using (query.Subscribe(observer))
            {
                var stopped = new TaskCompletionSource();
                using var registration = cancellationToken.Register(() => stopped.TrySetResult());
                await Task.WhenAny(observer.Done, stopped.Task).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            return (observer.Count, ex);
        }

        return (observer.Count, observer.Error);
    }

    private static (long Results, Exception? Error) Drain<T>(IQStream<T> query, IResultSink sink)
    {
        var observer = new SinkObserver<T>(sink);
        try
        {
            using (query.Subscribe(observer))
            {
            }
        }
        catch (Exception ex)
        {
            return (observer.Count, ex);
        }

        return (observer.Count, observer.Error);
    }

    private sealed class SinkObserver<T>(IResultSink sink) : IObserver<T>
    {
        public long Count { get; private set; }

        public Exception? Error { get; private set; }

        /// <summary>Gets a task that completes when the query ends or fails.</summary>
        public Task Done => _done.Task;

        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnCompleted() => _done.TrySetResult();

        public void OnError(Exception error)
        {
            Error ??= error;
            _done.TrySetResult();
        }

        public void OnNext(T value)
        {
            Count++;
            sink.Write(value);
        }
    }
}
