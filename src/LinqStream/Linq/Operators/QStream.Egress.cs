using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using LinqStream.Linq.Provider;
using LinqStream.Query;
using LinqStream.Runtime;
using LinqStream.Runtime.Egress;

namespace LinqStream;

public static partial class QStream
{
    /// <summary>Runs the query with <paramref name="options"/> (batch size, strict mode, clock).</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="source">The query.</param>
    /// <param name="options">The options.</param>
    /// <returns>The same query, with options.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static IQStream<T> WithOptions<T>(this IQStream<T> source, QueryOptions options)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        return QStreamProvider.Stream<T>(Expression.Call(null, Method<T>(MethodBase.GetCurrentMethod()!), source.Expression, Expression.Constant(options)));
    }

    /// <summary>Translates the query without running it and prints its logical and physical plans, with every fallback and its reason.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="source">The query.</param>
    /// <returns>The plans as text.</returns>
    /// <exception cref="QueryTranslationException">The query cannot run as a stream.</exception>
    public static string Explain<T>(this IQStream<T> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return QueryCompiler.Compile<T>(source.Expression).Explain();
    }

    /// <summary>Binds the query to <paramref name="sink"/> as a job that checkpoints and restores (see <see cref="QueryJob{T}"/>).</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="source">The query.</param>
    /// <param name="sink">Where the results go (for example <see cref="JsonLinesFileSink{T}"/>, which commits with checkpoints).</param>
    /// <param name="options">Checkpoint store, interval and dead letters.</param>
    /// <returns>The job; call <see cref="QueryJob{T}.RunAsync"/>.</returns>
    /// <exception cref="QueryTranslationException">The query cannot run as a stream.</exception>
    public static QueryJob<T> ToJob<T>(this IQStream<T> source, EventSink<T> sink, JobOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(sink);
        options ??= new JobOptions();
        return new QueryJob<T>(QueryCompiler.Compile<T>(source.Expression, options.State is { } state && state != StateBackend.Heap), sink, options);
    }

    /// <summary>
    /// Binds the query to one sink per task, with no merge in front of them, as a job that checkpoints and restores (see
    /// <see cref="ParallelSinkJob{T}"/>): the query's partitions are read by <c>min(partitions, parallelism)</c> tasks, and task
    /// <c>i</c> writes its results to <c>sinkPerTask(i)</c>.
    /// </summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="source">The query: a union of partitions (<c>QStream.From(partitions, ...)</c> or <c>Merge</c>) with only filters and projections after it, or a keyed window aggregate (its tasks then each write the results of their keys).</param>
    /// <param name="sinkPerTask">Makes task <c>i</c>'s sink (called once per task, when the job is made).</param>
    /// <param name="options">Checkpoint store, interval and the number of tasks (<see cref="JobOptions.Parallelism"/>, else <see cref="QueryOptions.Parallelism"/>).</param>
    /// <returns>The job; call <see cref="ParallelSinkJob{T}.RunAsync"/>.</returns>
    /// <exception cref="QueryTranslationException">The query cannot run as a stream.</exception>
    /// <exception cref="NotSupportedException"><see cref="JobOptions.DeadLetters"/> is set, or (with <see cref="QueryOptions.Strict"/>) the query cannot be split into partitions.</exception>
    public static ParallelSinkJob<T> ToParallelSinkJob<T>(this IQStream<T> source, Func<int, EventSink<T>> sinkPerTask, JobOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(sinkPerTask);
        return new ParallelSinkJob<T>(QueryCompiler.Compile<T>(source.Expression), sinkPerTask, options ?? new JobOptions());
    }

    /// <summary>Runs the query and pulls its results as they come.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="source">The query.</param>
    /// <param name="cancellationToken">Stops the query.</param>
    /// <returns>The results, in order.</returns>
    /// <remarks>The query runs on a pool thread and waits while the consumer is behind (a bounded buffer).</remarks>
    /// <exception cref="QueryTranslationException">The query cannot run as a stream (thrown at the first <c>MoveNextAsync</c>).</exception>
    public static IAsyncEnumerable<T> ToAsyncEnumerable<T>(this IQStream<T> source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        return Pull<T, T>(source, c => (w, ctx) => new ChannelSink<T, T>(w, ctx, static (s, e, p) => p), cancellationToken);
    }

    /// <summary>Runs the query and pulls its results with their lifetimes.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="source">The query.</param>
    /// <param name="cancellationToken">Stops the query.</param>
    /// <returns>The results as <c>(Start, End, Payload)</c>, in start order.</returns>
    /// <exception cref="QueryTranslationException">The query cannot run as a stream.</exception>
    public static IAsyncEnumerable<StreamEvent<T>> ToStreamEvents<T>(this IQStream<T> source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        return Pull<T, StreamEvent<T>>(source, c => (w, ctx) => new ChannelSink<T, StreamEvent<T>>(w, ctx, static (s, e, p) => new StreamEvent<T>(s, e, p)), cancellationToken);
    }

    /// <summary>Runs a query over finite sources to the end and collects its results.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="source">The query.</param>
    /// <param name="cancellationToken">Stops the query.</param>
    /// <returns>Every result, in order.</returns>
    /// <remarks>A live source never ends on its own: pass a token, or use <c>Subscribe</c>.</remarks>
    /// <exception cref="QueryTranslationException">The query cannot run as a stream.</exception>
    /// <exception cref="QueryExecutionException">The query failed while running.</exception>
    public static async Task<List<T>> ToListAsync<T>(this IQStream<T> source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var compiled = QueryCompiler.Compile<T>(source.Expression);
        var results = new List<T>();
        var observer = new CollectingObserver<T>(results);
        var execution = QueryExecution.Create(compiled.Root, c => new ObserverSink<T>(observer, c), compiled.Options, parallel: compiled.Parallel);
        if (execution.IsLive)
        {
            await execution.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            using var stop = cancellationToken.Register(execution.Stop);
            await Task.Run(execution.Run, cancellationToken).ConfigureAwait(false);
        }

        if (observer.Error is not null)
        {
            throw observer.Error is QueryExecutionException or LateEventException ? observer.Error : new QueryExecutionException(observer.Error.Message, observer.Error);
        }

        cancellationToken.ThrowIfCancellationRequested();
        return results;
    }

    private static async IAsyncEnumerable<TOut> Pull<T, TOut>(
        IQStream<T> source, Func<int, Func<ChannelWriter<TOut>, QueryContext, IStreamObserver<T>>> sinkFactory, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var compiled = QueryCompiler.Compile<T>(source.Expression);
        var channel = Channel.CreateBounded<TOut>(new BoundedChannelOptions(compiled.Options.BatchSize * 4) { SingleReader = true, SingleWriter = true });
        var make = sinkFactory(0);
        var execution = QueryExecution.Create(compiled.Root, c => make(channel.Writer, c), compiled.Options, parallel: compiled.Parallel);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var run = Task.Run(async () =>
        {
            try
            {
                if (execution.IsLive)
                {
                    await execution.RunAsync(cts.Token).ConfigureAwait(false);
                }
                else
                {
                    execution.Run();
                }
            }
            catch (Exception ex)
            {
                channel.Writer.TryComplete(ex);
            }
        }, CancellationToken.None);
        try
        {
            while (await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (channel.Reader.TryRead(out var item))
                {
                    yield return item;
                }
            }
        }
        finally
        {
            execution.Stop();
            await cts.CancelAsync().ConfigureAwait(false);
            channel.Writer.TryComplete();
            while (channel.Reader.TryRead(out _))
            {
                // Unblock a writer waiting on a full channel.
            }

            await run.ConfigureAwait(false);
        }
    }

    private sealed class CollectingObserver<T>(List<T> results) : IObserver<T>
    {
        public Exception? Error { get; private set; }

        public void OnCompleted()
        {
        }

        public void OnError(Exception error) => Error = error;

        public void OnNext(T value) => results.Add(value);
    }
}
