using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Conformance.Tests.Joins;

/// <summary>
/// The per-event error policy in the two-input operators and ClipLifetime: under <see cref="ErrorPolicy.SkipAndDeadLetter"/>
/// a key or result selector that throws loses only its own event (or pair) into the dead letters, the query goes on, and the
/// answer is the LINQ reference over the events that did not throw, at any batch size.
/// </summary>
public sealed class JoinErrorPolicyTests
{
    private static readonly TimeSpan AuctionLife = TimeSpan.FromSeconds(1);

    public static TheoryData<int> BatchSizes => new() { 1, 2048 };

    // The selectors divide by zero for some events: `x + 0 * (k / (y % m))` keeps the key and throws when y % m == 0.
    private static bool BadBidKey(Bid b) => b.Price % 7 == 0;

    private static bool BadAuctionKey(Auction a) => a.Reserve % 5 == 0;

    private static bool BadPair(Bid b) => b.Bidder % 13 == 0;

    private static (List<DeadLetter> Letters, QueryOptions Options) Skip(int batchSize, ErrorPolicy policy = ErrorPolicy.SkipAndDeadLetter)
    {
        var letters = new Letters();
        return (letters.Items, new QueryOptions { BatchSize = batchSize, OnError = policy, DeadLetters = letters });
    }

    private static IEnumerable<Auction> AliveAt(ILookup<long, Auction> auctions, Bid b) =>
        auctions[b.Auction].Where(a => a.DateTime <= b.DateTime && b.DateTime < a.DateTime + AuctionLife);

    [Theory]
    [MemberData(nameof(BatchSizes))]
    public async Task Join_KeyAndResultSelectorsThrow_SkipAndDeadLetter_GivesTheReferenceOverTheRest(int batchSize)
    {
        var data = NexmarkData.Get(6_000, TimeSpan.Zero);
        var (letters, options) = Skip(batchSize);
        var query =
            from b in QStream.From(data.Bids, b => b.DateTime).WithOptions(options)
            join a in QStream.From(data.Auctions, a => a.DateTime).WithLifetime(a => a.DateTime, a => a.DateTime + AuctionLife)
                on b.Auction + 0 * (100 / (b.Price % 7)) equals a.Id + 0 * (100 / (a.Reserve % 5))
            select new { b.Bidder, b.Price, a.Category, Share = a.Category / (b.Bidder % 13) };

        var actual = await ToEvents(query);

        var auctions = data.Auctions.Where(a => !BadAuctionKey(a)).ToLookup(a => a.Id);
        var expected = new List<StreamEvent<string>>();
        var badPairs = 0;
        foreach (var b in data.Bids.Where(b => !BadBidKey(b)))
        {
            foreach (var a in AliveAt(auctions, b))
            {
                if (BadPair(b))
                {
                    badPairs++;
                    continue;
                }

                expected.Add(Run.Point(b.DateTime, new { b.Bidder, b.Price, a.Category, Share = a.Category / (b.Bidder % 13) }.ToString()!));
            }
        }

        Assert.True(badPairs > 0, "The data must hold pairs whose result selector throws.");
        Assert.NotEmpty(expected);
        Run.AssertEquivalent(expected, actual.Select(e => Run.Event(e.Start, e.End, e.Payload.ToString()!)));
        AssertLetters(letters, "Join", data.Bids.Count(BadBidKey), data.Auctions.Count(BadAuctionKey), badPairs);
    }

    [Theory]
    [MemberData(nameof(BatchSizes))]
    public async Task LeftJoin_KeyAndResultSelectorsThrow_SkipAndDeadLetter_GivesTheReferenceOverTheRest(int batchSize)
    {
        var data = NexmarkData.Get(6_000, TimeSpan.Zero);
        var (letters, options) = Skip(batchSize);
        var query = QStream.From(data.Bids, b => b.DateTime).WithOptions(options).LeftJoin(
            QStream.From(data.Auctions, a => a.DateTime).WithLifetime(a => a.DateTime, a => a.DateTime + AuctionLife),
            b => b.Auction + 0 * (100 / (b.Price % 7)),
            a => a.Id + 0 * (100 / (a.Reserve % 5)),
            (b, a) => new { b.Bidder, b.Price, Share = (a == null ? 100 : a.Category) / (b.Bidder % 13) });

        var actual = await ToEvents(query);

        var auctions = data.Auctions.Where(a => !BadAuctionKey(a)).ToLookup(a => a.Id);
        var expected = new List<StreamEvent<string>>();
        int badPairs = 0, unmatched = 0;
        foreach (var b in data.Bids.Where(b => !BadBidKey(b)))
        {
            var alive = AliveAt(auctions, b).Select(a => (long?)a.Category).ToList();
            if (alive.Count == 0)
            {
                unmatched++;
                alive.Add(null);
            }

            foreach (var category in alive)
            {
                if (BadPair(b))
                {
                    badPairs++;
                    continue;
                }

                expected.Add(Run.Point(b.DateTime, new { b.Bidder, b.Price, Share = (category ?? 100) / (b.Bidder % 13) }.ToString()!));
            }
        }

        Assert.True(unmatched > 0 && badPairs > 0, "The data must hold unmatched bids and pairs whose result selector throws.");
        Run.AssertEquivalent(expected, actual.Select(e => Run.Event(e.Start, e.End, e.Payload.ToString()!)));
        AssertLetters(letters, "LeftJoin", data.Bids.Count(BadBidKey), data.Auctions.Count(BadAuctionKey), badPairs);
    }

    [Theory]
    [MemberData(nameof(BatchSizes))]
    public async Task WhereNotExists_KeySelectorsThrow_SkipAndDeadLetter_GivesTheReferenceOverTheRest(int batchSize)
    {
        var data = NexmarkData.Get(6_000, TimeSpan.Zero);
        var (letters, options) = Skip(batchSize);
        var query = QStream.From(data.Bids, b => b.DateTime).WithOptions(options)
            .WhereNotExists(
                QStream.From(data.Auctions, a => a.DateTime).WithLifetime(a => a.DateTime, a => a.DateTime + AuctionLife),
                b => b.Auction + 0 * (100 / (b.Price % 7)),
                a => a.Id + 0 * (100 / (a.Reserve % 5)))
            .Select(b => new { b.Auction, b.Bidder, b.Price });

        var actual = await ToEvents(query);

        // An auction whose key throws is not there to match, so bids it would have excluded come out.
        var auctions = data.Auctions.Where(a => !BadAuctionKey(a)).ToLookup(a => a.Id);
        var expected = data.Bids.Where(b => !BadBidKey(b) && !AliveAt(auctions, b).Any())
            .Select(b => Run.Point(b.DateTime, new { b.Auction, b.Bidder, b.Price }.ToString()!)).ToList();
        var allAuctions = data.Auctions.ToLookup(a => a.Id);
        Assert.Contains(data.Bids, b => !BadBidKey(b) && AliveAt(allAuctions, b).Any() && !AliveAt(auctions, b).Any());
        Run.AssertEquivalent(expected, actual.Select(e => Run.Event(e.Start, e.End, e.Payload.ToString()!)));
        AssertLetters(letters, "WhereNotExists", data.Bids.Count(BadBidKey), data.Auctions.Count(BadAuctionKey), pairs: 0);
    }

    [Theory]
    [MemberData(nameof(BatchSizes))]
    public async Task ClipLifetime_KeySelectorThrows_SkipAndDeadLetter_ClipsTheRestAsTheReference(int batchSize)
    {
        var data = NexmarkData.Get(6_000, TimeSpan.Zero);
        var (letters, options) = Skip(batchSize);
        var life = TimeSpan.FromSeconds(2);
        var query = QStream.From(data.Bids, b => b.DateTime).WithOptions(options)
            .ExtendLifetime(life)
            .ClipLifetime(b => b.Auction + 0 * (100 / (b.Price % 7)))
            .Select(b => new { b.Auction, b.Bidder, b.Price });

        var actual = await ToEvents(query);

        var expected = new List<StreamEvent<string>>();
        foreach (var auction in data.Bids.Where(b => !BadBidKey(b)).GroupBy(b => b.Auction))
        {
            var sorted = auction.OrderBy(b => b.DateTime).ToList();
            foreach (var b in sorted)
            {
                long start = b.DateTime.Ticks;
                long end = start + 1 + life.Ticks;
                if (sorted.FirstOrDefault(n => n.DateTime.Ticks > start) is { } next)
                {
                    end = Math.Min(end, next.DateTime.Ticks);
                }

                expected.Add(Run.Event(start, end, new { b.Auction, b.Bidder, b.Price }.ToString()!));
            }
        }

        Run.AssertEquivalent(expected, actual.Select(e => Run.Event(e.Start, e.End, e.Payload.ToString()!)));
        var bad = data.Bids.Where(BadBidKey).ToList();
        Assert.NotEmpty(bad);
        Assert.Equal(bad.Select(b => b.ToString()), letters.Select(l => l.Record));
        Assert.All(letters, l => Assert.Equal("ClipLifetime", l.Source));
        Assert.All(letters, l => Assert.Contains("DivideByZeroException", l.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Join_ResultSelectorThrows_Fail_StopsNamingTheOperatorAndThePair()
    {
        var data = NexmarkData.Get(6_000, TimeSpan.Zero);
        var (_, options) = Skip(256, ErrorPolicy.Fail);
        var query =
            from b in QStream.From(data.Bids, b => b.DateTime).WithOptions(options)
            join a in QStream.From(data.Auctions, a => a.DateTime).WithLifetime(a => a.DateTime, a => a.DateTime + AuctionLife) on b.Auction equals a.Id
            select a.Category / (b.Bidder % 13);

        var error = await Assert.ThrowsAsync<QueryExecutionException>(() => query.ToListAsync());

        var auctions = data.Auctions.ToLookup(a => a.Id);
        var first = data.Bids.First(b => BadPair(b) && AliveAt(auctions, b).Any());
        Assert.Equal("Join", error.Operator);
        Assert.Contains(first.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains("DivideByZeroException", error.Message, StringComparison.Ordinal);
        Assert.IsType<DivideByZeroException>(error.InnerException);
    }

    private static async Task<List<StreamEvent<T>>> ToEvents<T>(IQStream<T> query)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var events = new List<StreamEvent<T>>();
        await foreach (var e in query.ToStreamEvents().WithCancellation(timeout.Token))
        {
            events.Add(e);
        }

        return events;
    }

    private static void AssertLetters(List<DeadLetter> letters, string operatorName, int leftKeys, int rightKeys, int pairs)
    {
        Assert.True(leftKeys > 0 && rightKeys > 0, "The data must hold events whose key selectors throw.");
        Assert.All(letters, l => Assert.Equal(operatorName, l.Source));
        Assert.All(letters, l => Assert.Contains("DivideByZeroException", l.Reason, StringComparison.Ordinal));
        Assert.Equal(leftKeys, letters.Count(l => l.Record.StartsWith("Bid {", StringComparison.Ordinal)));
        Assert.Equal(rightKeys, letters.Count(l => l.Record.StartsWith("Auction {", StringComparison.Ordinal)));
        Assert.Equal(pairs, letters.Count(l => l.Record.StartsWith("(Bid {", StringComparison.Ordinal)));
        Assert.Equal(leftKeys + rightKeys + pairs, letters.Count);
    }

    private sealed class Letters : IDeadLetterSink
    {
        public List<DeadLetter> Items { get; } = [];

        public void Write(DeadLetter letter)
        {
            lock (Items)
            {
                Items.Add(letter);
            }
        }
    }
}
