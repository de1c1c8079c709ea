using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Conformance.Tests.Egress;

/// <summary>Every way out of a query (<c>Subscribe</c>, <c>ToAsyncEnumerable</c>, <c>ToListAsync</c>, <c>ToStreamEvents</c>) gives the same results.</summary>
public sealed class EgressTests
{
    private static readonly NexmarkData Data = NexmarkData.Get(20_000, TimeSpan.Zero);
    private static readonly TimeSpan Size = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan Hop = TimeSpan.FromSeconds(2);

    public static TheoryData<string> Queries => ["stateless", "window", "join"];

    [Theory]
    [MemberData(nameof(Queries))]
    public async Task Egress_AllFourMethods_GiveTheSameResultsInTheSameOrder(string shape)
    {
        var query = Build(shape);

        var viaList = await query.ToListAsync();
        var viaSubscribe = await SubscribeAsync(query);
        var viaAsyncEnumerable = await query.ToAsyncEnumerable().ToListAsync();
        var viaStreamEvents = await query.ToStreamEvents().ToListAsync();

        Assert.NotEmpty(viaList);
        Assert.Equal(viaList, viaSubscribe);
        Assert.Equal(viaList, viaAsyncEnumerable);
        Assert.Equal(viaList, viaStreamEvents.Select(e => e.Payload));
    }

    [Fact]
    public async Task Subscribe_LambdaThrows_CallsOnErrorNamingTheOperator()
    {
        var query = QStream.From(Data.Bids, b => b.DateTime).Select(b => 1000 / (b.Price - b.Price));
        var done = new TaskCompletionSource<Exception>();

        using var subscription = query.Subscribe(_ => { }, e => done.TrySetResult(e), () => done.TrySetException(new InvalidOperationException("completed")));
        var error = await done.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var failure = Assert.IsType<QueryExecutionException>(error);
        Assert.IsType<DivideByZeroException>(failure.InnerException);
        Assert.Contains("Select", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ToListAsync_LambdaThrows_ThrowsQueryExecutionException()
    {
        var query = QStream.From(Data.Bids, b => b.DateTime).Where(b => 1000 / (b.Price - b.Price) > 0);

        var error = await Assert.ThrowsAsync<QueryExecutionException>(() => query.ToListAsync());

        Assert.IsType<DivideByZeroException>(error.InnerException);
    }

    [Fact]
    public async Task ToAsyncEnumerable_LambdaThrows_ThrowsFromTheEnumerator()
    {
        var query = QStream.From(Data.Bids, b => b.DateTime).Select(b => 1000 / (b.Price - b.Price));

        var error = await Assert.ThrowsAnyAsync<Exception>(async () => await query.ToAsyncEnumerable().ToListAsync());

        Assert.IsType<DivideByZeroException>(error as DivideByZeroException ?? error.InnerException);
    }

    internal static IQStream<string> Build(string shape, IQStream<Bid>? bids = null, IQStream<Auction>? auctions = null)
    {
        bids ??= QStream.From(Data.Bids, b => b.DateTime);
        auctions ??= QStream.From(Data.Auctions, a => a.DateTime);
        return shape switch
        {
            "stateless" =>
                from b in bids
                where b.Price > 1000
                select $"{b.Auction} {b.Price * 0.908}",
            "window" =>
                from b in bids.HoppingWindow(Size, Hop)
                group b by b.Auction into g
                select $"{g.Window.Start:O} {g.Key} {g.Count()} {g.Max(b => b.Price)}",
            _ =>
                from a in auctions.WithLifetime(a => a.DateTime, a => a.Expires)
                join b in bids on a.Id equals b.Auction
                select $"{a.Id} {b.Bidder} {b.Price} {b.DateTime.Ticks}",
        };
    }

    internal static async Task<List<T>> SubscribeAsync<T>(IQStream<T> query)
    {
        var results = new List<T>();
        var done = new TaskCompletionSource();
        using var subscription = query.Subscribe(results.Add, e => done.TrySetException(e), () => done.TrySetResult());
        await done.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return results;
    }
}
