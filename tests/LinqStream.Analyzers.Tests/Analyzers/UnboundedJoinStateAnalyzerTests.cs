using LinqStream.Analyzers.Tests.Verifiers;
using VerifyRule = LinqStream.Analyzers.Tests.Verifiers.Verify<LinqStream.Analyzers.UnboundedJoinStateAnalyzer>;

namespace LinqStream.Analyzers.Tests.Analyzers;

public sealed class UnboundedJoinStateAnalyzerTests
{
    [Fact]
    public Task EndlessLifetime_ThroughALocal_FeedingAQueryJoin_Triggers() =>
        VerifyRule.Statements("""
            var open = auctions.WithLifetime(a => a.Time, a => {|LSQ0005:DateTime.MaxValue|});
            var r = from a in open
                    join b in bids on a.Id equals b.Auction
                    select new { a.Id, b.Price };
            """);

    [Theory]
    [InlineData("var r = auctions.WithLifetime(a => a.Time, a => {|LSQ0005:DateTime.MaxValue|}).Join(bids, a => a.Id, b => b.Auction, (a, b) => b.Price);")]
    [InlineData("var r = auctions.WithLifetime(a => new DateTimeOffset(a.Time), a => {|LSQ0005:DateTimeOffset.MaxValue|}).Where(a => a.Seller != \"x\").LeftJoin(bids, a => a.Id, b => b.Auction, (a, b) => a.Id);")]
    [InlineData("var r = auctions.WithLifetime(a => a.Time.Ticks, a => {|LSQ0005:long.MaxValue|}).WhereNotExists(bids, a => a.Id, b => b.Auction);")]
    [InlineData("var r = auctions.Join(bids.ExtendLifetime({|LSQ0005:TimeSpan.MaxValue|}), a => a.Id, b => b.Auction, (a, b) => b.Price);")]
    [InlineData("var r = auctions.Join(bids.WithLifetime(b => b.Time, b => {|LSQ0005:DateTime.MaxValue|}).Select(b => b).ShiftTime(TimeSpan.FromSeconds(1)), a => a.Id, b => b.Auction, (a, b) => b.Price);")]
    public Task EndlessLifetime_OnAJoinInput_Triggers(string code) => VerifyRule.Statements(code);

    [Fact]
    public Task EndlessLifetime_FeedingTwoJoins_IsReportedOnce() =>
        VerifyRule.Statements("""
            var open = auctions.WithLifetime(a => a.Time, a => {|LSQ0005:DateTime.MaxValue|});
            var r1 = open.Join(bids, a => a.Id, b => b.Auction, (a, b) => b.Price);
            var r2 = open.LeftJoin(bids, a => a.Id, b => b.Auction, (a, b) => a.Id);
            """);

    [Theory]
    [InlineData("var r = auctions.WithLifetime(a => a.Time, a => a.Expires).Join(bids, a => a.Id, b => b.Auction, (a, b) => b.Price);")]
    [InlineData("var open = auctions.WithLifetime(a => a.Time, a => DateTime.MaxValue); var r = open.Where(a => a.Id > 0);")]
    [InlineData("var r = auctions.WithLifetime(a => a.Time, a => DateTime.MaxValue).ClipLifetime(a => a.Id).Join(bids, a => a.Id, b => b.Auction, (a, b) => b.Price);")]
    [InlineData("var r = auctions.WithLifetime(a => a.Time, a => DateTime.MaxValue).TumblingWindow(TimeSpan.FromMinutes(1)).Join(bids.TumblingWindow(TimeSpan.FromMinutes(1)), a => a.Id, b => b.Auction, (a, b) => b.Price);")]
    [InlineData("var r = auctions.Join(bids.ExtendLifetime(TimeSpan.FromHours(1)), a => a.Id, b => b.Auction, (a, b) => b.Price);")]
    [InlineData("var r = list.Join(list.Select(b => b with { Time = DateTime.MaxValue }), a => a.Auction, b => b.Auction, (a, b) => b.Price).ToList();")]
    public Task BoundedLifetime_OrNoJoin_DoesNotTrigger(string code) => VerifyRule.Statements(code);

    private const string LastPrice = """

        public readonly struct LastPrice : IAggregate<Bid, decimal, decimal>
        {
            public decimal Initial() => 0m;
            public decimal Add(decimal state, Bid input) => input.Price;
            public decimal Result(decimal state) => state;
        }

        """;

    [Fact]
    public Task EndlessLifetime_ThroughOver_FeedingAJoin_Triggers() =>
        VerifyRule.Analyzer(Source.Wrap("""
            var last = bids.WithLifetime(b => b.Time, b => {|LSQ0005:DateTime.MaxValue|}).Over(b => b.Auction, 3, TimeSpan.FromMinutes(1), new LastPrice());
            var r = auctions.Join(last, a => a.Id, p => 1L, (a, p) => p);
            """) + LastPrice);

    [Fact]
    public Task OverOfPointEvents_FeedingAJoin_DoesNotTrigger() =>
        VerifyRule.Analyzer(Source.Wrap("""
            var last = bids.Over(b => b.Auction, 3, TimeSpan.MaxValue, new LastPrice());
            var r = auctions.Join(last, a => a.Id, p => 1L, (a, p) => p);
            """) + LastPrice);
}
