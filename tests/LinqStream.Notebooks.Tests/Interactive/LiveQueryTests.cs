using LinqStream.Interactive;

namespace LinqStream.Notebooks.Tests.Interactive;

/// <summary>NotebookHost is one static connection: these tests replace it, so they do not run in parallel with each other.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NotebookHostCollection
{
    public const string Name = "notebook host";
}

[Collection(NotebookHostCollection.Name)]
public sealed class LiveQueryTests : IDisposable
{
    private readonly List<LiveQueryView> _views = [];
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));

    public LiveQueryTests() => NotebookHost.Connect(
        value =>
        {
            Shown(value);
            return Shown;
        },
        () => CancellationToken.None);

    public void Dispose()
    {
        NotebookHost.Disconnect();
        _timeout.Dispose();
    }

    [Fact]
    public async Task DisplayLiveAsync_UpdateEveryResults_UpdatesInPlaceThenShowsTheFinalTable()
    {
        var input = RandomTicks(seed: 7, count: 2_000);

        var results = await Windowed(input).DisplayLiveAsync(new LiveDisplayOptions { UpdateEveryResults = 10, RefreshInterval = Timeout.InfiniteTimeSpan, MaxRows = 1_000 });

        var expected = Oracle(input);
        Assert.Equal(expected, results);
        var views = Views();
        Assert.Equal(1 + (expected.Count / 10) + 1, views.Length);
        Assert.All(views[..^1], v => Assert.Equal(LiveQueryState.Running, v.State));
        Assert.Equal(Enumerable.Range(0, expected.Count / 10 + 1).Select(i => (long)i * 10), views[..^1].Select(v => v.Results));
        Assert.Equal(LiveQueryState.Completed, views[^1].State);
        Assert.Equal(expected.Cast<object?>(), views[^1].Rows);
        Assert.Equal(input.Length, views[^1].EventsRead);
    }

    [Fact]
    public async Task DisplayLiveAsync_RunningView_ShowsOnlyTheLatestRows()
    {
        var input = RandomTicks(seed: 11, count: 500);

        var results = await Windowed(input).DisplayLiveAsync(new LiveDisplayOptions { UpdateEveryResults = 7, LatestRows = 3, RefreshInterval = Timeout.InfiniteTimeSpan });

        var running = Views().Where(v => v.State == LiveQueryState.Running && v.Results > 0).ToArray();
        Assert.NotEmpty(running);
        Assert.All(running, v => Assert.Equal(results.Skip((int)v.Results - 3).Take(3).Cast<object?>(), v.Rows));
    }

    [Fact]
    public async Task DisplayLiveAsync_QueryWithOptions_KeepsThemAndReportsEventsRead()
    {
        var input = RandomTicks(seed: 3, count: 300);
        var query = Windowed(input).WithOptions(new QueryOptions { BatchSize = 1 });

        var results = await query.DisplayLiveAsync(new LiveDisplayOptions { RefreshInterval = Timeout.InfiniteTimeSpan });

        Assert.Equal(Oracle(input), results);
        Assert.Equal(input.Length, Views()[^1].EventsRead);
    }

    [Fact]
    public async Task DisplayLiveAsync_Cancelled_StopsTheQueryAndSaysSo()
    {
        using var stop = new CancellationTokenSource();
        long produced = 0;
        async IAsyncEnumerable<long> Endless()
        {
            for (long i = 0; ; i++)
            {
                if (i % 64 == 0)
                {
                    await Task.Yield();
                }

                produced = i;
                yield return i * TimeSpan.TicksPerMillisecond;
            }
        }

        var query = QStream.From(Endless(), t => t).TumblingWindow(TimeSpan.FromSeconds(1)).Select(w => w.Count());
        var running = query.DisplayLiveAsync(new LiveDisplayOptions { UpdateEveryResults = 1, RefreshInterval = Timeout.InfiniteTimeSpan }, stop.Token);
        while (Views().Length < 3)
        {
            await Task.Delay(1, _timeout.Token);
        }

        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(_timeout.Token));
        long after = Interlocked.Read(ref produced);
        Assert.Equal(LiveQueryState.Cancelled, Views()[^1].State);
        Assert.StartsWith("stopped (the cell was cancelled)", Views()[^1].ToString(), StringComparison.Ordinal);
        await Task.Delay(50, _timeout.Token);
        // The source ignores the token, so an item whose MoveNextAsync was already running when the query stopped may still be
        // produced; nothing after it is pulled (before the pump checked the stop per item, a whole chunk of 2,048 more was).
        Assert.InRange(Interlocked.Read(ref produced), after, after + 1);
    }

    [Fact]
    public async Task DisplayLiveAsync_NoKernelConnected_RunsTheQueryAndShowsNothing()
    {
        NotebookHost.Disconnect();
        var input = RandomTicks(seed: 5, count: 400);

        var results = await Windowed(input).DisplayLiveAsync();

        Assert.Equal(Oracle(input), results);
        Assert.Empty(Views());
    }

    [Fact]
    public void LiveDisplayOptions_BadValues_AreRejectedWithTheirName()
    {
        Assert.Equal("value", Assert.Throws<ArgumentOutOfRangeException>(() => new LiveDisplayOptions { RefreshInterval = TimeSpan.Zero }).ParamName);
        Assert.Equal("value", Assert.Throws<ArgumentOutOfRangeException>(() => new LiveDisplayOptions { UpdateEveryResults = 0 }).ParamName);
        Assert.Equal("value", Assert.Throws<ArgumentOutOfRangeException>(() => new LiveDisplayOptions { LatestRows = 0 }).ParamName);
        Assert.Equal("value", Assert.Throws<ArgumentOutOfRangeException>(() => new LiveDisplayOptions { MaxRows = 0 }).ParamName);
    }

    [Fact]
    public void LiveQueryView_Running_ShowsTheStatusChartAndLatestRows()
    {
        var html = new LiveQueryView(LiveQueryState.Running, typeof(int), 1_234, 500.4, TimeSpan.FromSeconds(2), 3, [1, 2, 3], [100, 500.4], null).ToHtml();

        Assert.StartsWith("<div class=\"linqstream-live\"><p><b>running: 1,234 events read, 500 events/s, watermark lag 00:00:02, 3 results</b></p><svg ", html, StringComparison.Ordinal);
        Assert.Contains("<tr><td>3</td></tr>", html, StringComparison.Ordinal);
    }

    private static long[] RandomTicks(int seed, int count)
    {
        var random = new Random(seed);
        long t = 0;
        return [.. Enumerable.Range(0, count).Select(_ => t += random.Next(0, 3) * TimeSpan.TicksPerSecond)];
    }

    private static IQStream<Row> Windowed(long[] input) =>
        QStream.From(input, t => t).TumblingWindow(TimeSpan.FromSeconds(5)).Select(w => new Row(w.Window.End, w.Count()));

    /// <summary>LINQ to Objects: one row per 5-second window with events, in window order.</summary>
    private static List<Row> Oracle(long[] input) =>
        [.. input.GroupBy(t => t / (5 * TimeSpan.TicksPerSecond)).OrderBy(g => g.Key)
            .Select(g => new Row(new DateTimeOffset((g.Key + 1) * 5 * TimeSpan.TicksPerSecond, TimeSpan.Zero), g.Count()))];

    private void Shown(object value)
    {
        lock (_lock)
        {
            _views.Add((LiveQueryView)value);
        }
    }

    private LiveQueryView[] Views()
    {
        lock (_lock)
        {
            return [.. _views];
        }
    }

    public sealed record Row(DateTimeOffset End, int Count);
}
