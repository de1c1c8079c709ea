using System.Reactive.Subjects;
using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Conformance.Tests.Egress;

/// <summary>
/// A query over live sources (a <see cref="Subject{T}"/> pushed from another thread, an <c>async</c> sequence) gives the same
/// answer as the same query replayed from arrays.
/// </summary>
public sealed class LiveSourceTests
{
    public static TheoryData<string, bool> Shapes
    {
        get
        {
            var data = new TheoryData<string, bool>();
            foreach (var shape in new[] { "stateless", "window", "join" })
            {
                data.Add(shape, false);
                data.Add(shape, true);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task Subject_PushedFromAnotherThread_GivesTheReplayAnswer(string shape, bool disordered)
    {
        var (data, policy) = Setup(disordered);
        var expected = await Replay(shape, data, policy);
        var bids = new Subject<Bid>();
        var auctions = new Subject<Auction>();
        var query = EgressTests.Build(shape, QStream.From(bids, b => b.DateTime, policy()), QStream.From(auctions, a => a.DateTime, policy()));

        var running = query.ToStreamEvents().ToListAsync().AsTask();
        var pushing = Task.WhenAll(LiveFeeds.PushWhenSubscribedAsync(bids, data.Bids), shape == "join" ? LiveFeeds.PushWhenSubscribedAsync(auctions, data.Auctions) : Task.CompletedTask);
        var actual = await running.WaitAsync(TimeSpan.FromSeconds(30));
        await pushing;

        Run.AssertEquivalent(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task AsyncEnumerable_Source_GivesTheReplayAnswer(string shape, bool disordered)
    {
        var (data, policy) = Setup(disordered);
        var expected = await Replay(shape, data, policy);
        var query = EgressTests.Build(shape, QStream.From(LiveFeeds.Async(data.Bids), b => b.DateTime, policy()), QStream.From(LiveFeeds.Async(data.Auctions), a => a.DateTime, policy()));

        var actual = await query.ToStreamEvents().ToListAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Run.AssertEquivalent(expected, actual);
    }

    [Fact]
    public async Task LiveAndReplayedSources_InOneJoin_GiveTheReplayAnswer()
    {
        var (data, policy) = Setup(disordered: false);
        var expected = await Replay("join", data, policy);
        var bids = new Subject<Bid>();
        var query = EgressTests.Build("join", QStream.From(bids, b => b.DateTime), QStream.From(data.Auctions, a => a.DateTime));

        var running = query.ToStreamEvents().ToListAsync().AsTask();
        var pushing = LiveFeeds.PushWhenSubscribedAsync(bids, data.Bids);
        var actual = await running.WaitAsync(TimeSpan.FromSeconds(30));
        await pushing;

        Run.AssertEquivalent(expected, actual);
    }

    [Fact]
    public async Task Subscribe_LiveSubject_DeliversTheReplayAnswerThenCompletes()
    {
        var (data, policy) = Setup(disordered: false);
        var expected = await EgressTests.Build("window", QStream.From(data.Bids, b => b.DateTime)).ToListAsync();
        var bids = new Subject<Bid>();
        var query = EgressTests.Build("window", QStream.From(bids, b => b.DateTime));

        var subscribing = EgressTests.SubscribeAsync(query);
        await LiveFeeds.PushWhenSubscribedAsync(bids, data.Bids);
        var actual = await subscribing;

        Assert.Equal(expected.Order(StringComparer.Ordinal), actual.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Subject_OnError_FailsTheQueryWithTheSourceError()
    {
        var bids = new Subject<Bid>();
        var query = QStream.From(bids, b => b.DateTime, name: "live bids").Select(b => b.Price);

        var running = query.ToListAsync();
        LiveFeeds.Eventually(() => bids.HasObservers, "The query should subscribe.");
        bids.OnNext(NexmarkData.Get(10_000, TimeSpan.Zero).Bids[0]);
        bids.OnError(new TimeoutException("feed lost"));

        var error = await Assert.ThrowsAsync<QueryExecutionException>(() => running.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.IsType<TimeoutException>(error.InnerException);
        Assert.Contains("live bids", error.Message, StringComparison.Ordinal);
    }

    private static (NexmarkData Data, Func<IngressPolicy> Policy) Setup(bool disordered)
    {
        var disorder = disordered ? Scenario.Disorder : TimeSpan.Zero;
        return (NexmarkData.Get(20_000, disorder), () => disordered ? IngressPolicy.Reorder(disorder) : IngressPolicy.Throw);
    }

    private static async Task<List<StreamEvent<string>>> Replay(string shape, NexmarkData data, Func<IngressPolicy> policy)
    {
        var replay = EgressTests.Build(shape, QStream.From(data.Bids, b => b.DateTime, policy()), QStream.From(data.Auctions, a => a.DateTime, policy()));
        var events = await replay.ToStreamEvents().ToListAsync();
        Assert.NotEmpty(events);
        return events;
    }
}
