using VerifyRule = LinqStream.Analyzers.Tests.Verifiers.Verify<LinqStream.Analyzers.UnwindowedAggregateAnalyzer>;

namespace LinqStream.Analyzers.Tests.Analyzers;

public sealed class UnwindowedAggregateAnalyzerTests
{
    [Theory]
    [InlineData("var r = bids.{|LSQ0001:Count()|};")]
    [InlineData("var r = bids.{|LSQ0001:Sum(b => b.Price)|};")]
    [InlineData("var r = bids.{|LSQ0001:Min(b => b.Price)|};")]
    [InlineData("var r = bids.{|LSQ0001:Max(b => b.Price)|};")]
    [InlineData("var r = bids.Select(b => b.Price).{|LSQ0001:Average()|};")]
    [InlineData("var r = bids.{|LSQ0001:Aggregate(0m, (acc, b) => acc + b.Price)|};")]
    [InlineData("var r = bids.{|LSQ0001:ToList()|};")]
    [InlineData("var r = bids.{|LSQ0001:ToArray()|};")]
    [InlineData("var r = bids.{|LSQ0001:LastAsync()|};")]
    [InlineData("var r = bids.Select(b => b.Bidder).{|LSQ0001:Distinct()|};")]
    [InlineData("var r = bids.{|LSQ0001:GroupBy(b => b.Auction)|};")]
    [InlineData("var r = bids.{|LSQ0001:Scan(0m, (acc, b) => acc + b.Price)|};")]
    public Task Aggregate_OnUnwindowedStream_Triggers(string code) => VerifyRule.Statements(code);

    [Fact]
    public Task Aggregate_OnWindowedStream_Triggers() =>
        VerifyRule.Statements("var r = bids.TumblingWindow(TimeSpan.FromMinutes(1)).{|LSQ0001:Count()|};");

    [Fact]
    public Task Aggregate_OnWindowResults_Triggers() =>
        VerifyRule.Statements("var r = bids.TumblingWindow(TimeSpan.FromMinutes(1)).Select(w => w.Count()).{|LSQ0001:Max()|};");

    [Fact]
    public Task Aggregate_AfterAnRxOperatorOnAStream_Triggers() =>
        VerifyRule.Statements("var r = bids.Throttle(TimeSpan.FromSeconds(1)).{|LSQ0001:Count()|};");

    [Fact]
    public Task GroupBy_InQuerySyntax_TriggersOnTheGroupClause() =>
        VerifyRule.Statements("""
            var r = from b in bids
                    {|LSQ0001:group b by b.Auction|} into g
                    select g.Key;
            """);

    [Fact]
    public Task Aggregate_MessageQuotesTheCatalogue() =>
        VerifyRule.Statements(
            "var r = bids.{|#0:Count()|};",
            new Microsoft.CodeAnalysis.Testing.DiagnosticResult(DiagnosticDescriptors.UnwindowedAggregate)
                .WithLocation(0)
                .WithArguments(
                    "Count",
                    "an aggregate over an unbounded stream never ends and keeps state forever",
                    "Window the stream first, for example 'stream.TumblingWindow(TimeSpan.FromSeconds(10)).Select(w => w.Count(...))' or 'stream.TumblingWindow(...).GroupBy(key).Select(g => g.Count(...))'"));

    [Theory]
    [InlineData("var r = list.Count(); var s = list.Sum(b => b.Price); var g = list.GroupBy(b => b.Auction).ToList(); var d = list.Distinct().ToArray();")]
    [InlineData("var r = rx.Count(); var s = rx.Sum(b => b.Price); var g = rx.GroupBy(b => b.Auction); var l = rx.ToList(); var x = rx.LastAsync();")]
    [InlineData("var r = rx.AsQbservable().Count();")]
    [InlineData("var r = bids.TumblingWindow(TimeSpan.FromMinutes(1)).Select(w => new { N = w.Count(), S = w.Sum(b => b.Price) });")]
    [InlineData("var r = bids.TumblingWindow(TimeSpan.FromMinutes(1)).GroupBy(b => b.Auction).Select(g => new { g.Key, N = g.Count() });")]
    [InlineData("var r = from b in bids.HoppingWindow(TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(10)) group b by b.Auction into g select new { g.Key, N = g.Count() };")]
    [InlineData("var r = await bids.Where(b => b.Price > 10).ToListAsync();")]
    public Task Aggregate_OverObjectsRxOrAWindow_DoesNotTrigger(string code) => VerifyRule.Statements(code);
}
