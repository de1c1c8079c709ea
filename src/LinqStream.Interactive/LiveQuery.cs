using System.Diagnostics;
using System.Linq.Expressions;

namespace LinqStream.Interactive;

/// <summary>Shows a running query in a notebook cell: a view that updates in place while it runs, and its final table when it ends.</summary>
public static class LiveQuery
{
    /// <summary>
    /// Runs <paramref name="query"/> and, in a notebook, shows a <see cref="LiveQueryView"/> that is updated in place while it runs (events read,
    /// events/s, watermark lag, the latest results, a throughput chart) and replaced by the final table when it ends.
    /// </summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="query">The query; its sources may be live (the view shows results as they come; stop the cell to stop the query).</param>
    /// <param name="options">How often the view updates and how many rows it shows; <see cref="LiveDisplayOptions.Default"/> when null.</param>
    /// <param name="cancellationToken">Stops the query. In a notebook, cancelling the cell stops it too.</param>
    /// <returns>Every result, once the query has ended.</returns>
    /// <remarks>
    /// Outside a notebook (no kernel connected through <see cref="NotebookHost"/>) the query runs the same and nothing is shown. When the query is
    /// stopped, the view says after how many events and results, and <see cref="OperationCanceledException"/> is thrown.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="query"/> is null.</exception>
    /// <exception cref="OperationCanceledException">The query was stopped.</exception>
    public static async Task<List<T>> DisplayLiveAsync<T>(this IQStream<T> query, LiveDisplayOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        options ??= LiveDisplayOptions.Default;
        var monitor = new LiveMonitor<T>(options);
        var running = WithProgress(query, monitor, options.RefreshInterval);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, NotebookHost.CellCancellation);
        var update = NotebookHost.Display(monitor.Snapshot(LiveQueryState.Running));
        using var tickerStop = new CancellationTokenSource();
        var ticker = update is null || options.RefreshInterval == Timeout.InfiniteTimeSpan
            ? Task.CompletedTask
            : TickAsync(monitor, update, options.RefreshInterval, tickerStop.Token);
        LiveQueryState end = LiveQueryState.Completed;
        string? error = null;
        try
        {
            await foreach (var result in running.ToAsyncEnumerable(stop.Token).ConfigureAwait(false))
            {
                if (monitor.Add(result) && update is not null)
                {
                    update(monitor.Snapshot(LiveQueryState.Running));
                }
            }

            // The query's last progress report (every event read) may come just after its last result: wait for it a moment.
            await Task.WhenAny(monitor.Finished, Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None)).ConfigureAwait(false);
            return monitor.Results;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            end = LiveQueryState.Cancelled;
            throw;
        }
        catch (Exception ex)
        {
            end = LiveQueryState.Failed;
            error = ex.Message;
            throw;
        }
        finally
        {
            await tickerStop.CancelAsync().ConfigureAwait(false);
            await ticker.ConfigureAwait(false);
            update?.Invoke(monitor.Snapshot(end, error));
        }
    }

    private static async Task TickAsync<T>(LiveMonitor<T> monitor, Action<object> update, TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                update(monitor.Snapshot(LiveQueryState.Running));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The query ended: the final update follows.
        }
    }

    /// <summary>The query with its options' progress reported to <paramref name="monitor"/>: every WithOptions in it gets the reporter, or one is added.</summary>
    private static IQStream<T> WithProgress<T>(IQStream<T> query, LiveMonitor<T> monitor, TimeSpan refresh)
    {
        var interval = refresh == Timeout.InfiniteTimeSpan ? TimeSpan.FromMilliseconds(250) : refresh / 2;
        var rewriter = new OptionsRewriter(monitor, interval);
        var expression = rewriter.Visit(query.Expression);
        var rewritten = (IQStream<T>)query.Provider.CreateQuery<T>(expression);
        return rewriter.Found ? rewritten : rewritten.WithOptions(QueryOptions.Default with { Progress = monitor, ProgressInterval = interval });
    }

    private sealed class OptionsRewriter(IProgress<QueryProgress> progress, TimeSpan interval) : ExpressionVisitor
    {
        public bool Found { get; private set; }

        protected override Expression VisitMethodCall(MethodCallExpression node)
        {
            if (node.Method.DeclaringType == typeof(QStream) && node.Method.Name == nameof(QStream.WithOptions)
                && node.Arguments[1] is ConstantExpression { Value: QueryOptions options })
            {
                Found = true;
                return node.Update(null, [Visit(node.Arguments[0]), Expression.Constant(options with { Progress = progress, ProgressInterval = interval })]);
            }

            return base.VisitMethodCall(node);
        }
    }

    /// <summary>The results and the latest progress of one running query; read by the view updates, which may run on another thread.</summary>
    private sealed class LiveMonitor<T>(LiveDisplayOptions options) : IProgress<QueryProgress>
    {
        private readonly Lock _lock = new();
        private readonly Queue<double> _throughput = new();
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private QueryProgress? _progress;
        private long _lastEvents;
        private TimeSpan _lastElapsed;
        private double _eventsPerSecond;
        private int _sinceUpdate;

        public List<T> Results { get; } = [];

        /// <summary>Completes with the query's last progress report (the one that says every source has finished).</summary>
        public Task Finished => _finished.Task;

        public void Report(QueryProgress value)
        {
            lock (_lock)
            {
                _progress = value;
            }

            if (value.IsCompleted)
            {
                _finished.TrySetResult();
            }
        }

        /// <summary>Adds a result; true when the view should update because of the result count.</summary>
        public bool Add(T result)
        {
            lock (_lock)
            {
                Results.Add(result);
                if (options.UpdateEveryResults is { } every && ++_sinceUpdate >= every)
                {
                    _sinceUpdate = 0;
                    return true;
                }

                return false;
            }
        }

        public LiveQueryView Snapshot(LiveQueryState state, string? error = null)
        {
            lock (_lock)
            {
                long events = _progress?.EventsRead ?? 0;
                var elapsed = _clock.Elapsed;
                if (state == LiveQueryState.Running && elapsed > _lastElapsed)
                {
                    _eventsPerSecond = (events - _lastEvents) / (elapsed - _lastElapsed).TotalSeconds;
                    _lastEvents = events;
                    _lastElapsed = elapsed;
                    _throughput.Enqueue(_eventsPerSecond);
                    while (_throughput.Count > options.ChartPoints)
                    {
                        _throughput.Dequeue();
                    }
                }

                object?[] rows = state == LiveQueryState.Running
                    ? [.. Results.Skip(Math.Max(0, Results.Count - options.LatestRows)).Cast<object?>()]
                    : [.. Results.Take(options.MaxRows).Cast<object?>()];
                return new LiveQueryView(state, typeof(T), events, _eventsPerSecond, _progress?.WatermarkLag, Results.Count, rows, [.. _throughput], error);
            }
        }
    }
}
