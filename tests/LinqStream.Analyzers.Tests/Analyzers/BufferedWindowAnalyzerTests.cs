using LinqStream.Analyzers.Tests.Verifiers;
using VerifyRule = LinqStream.Analyzers.Tests.Verifiers.Verify<LinqStream.Analyzers.BufferedWindowAnalyzer>;

namespace LinqStream.Analyzers.Tests.Analyzers;

public sealed class BufferedWindowAnalyzerTests
{
    private const string Window = "bids.TumblingWindow(TimeSpan.FromMinutes(1))";
    private const string Groups = "bids.TumblingWindow(TimeSpan.FromMinutes(1)).GroupBy(b => b.Auction)";

    [Theory]
    [InlineData("var r = " + Window + ".Select(w => {|LSQ0007:w.ToList()|});")]
    [InlineData("var r = " + Window + ".Select(w => {|LSQ0007:w|});")]
    [InlineData("var r = " + Groups + ".Select(g => new { g.Key, First = {|LSQ0007:g.First()|} });")]
    [InlineData("var r = " + Groups + ".Select(g => new { g.Key, Median = {|LSQ0007:g.OrderBy(b => b.Price).ElementAt(g.Count() / 2)|} });")]
    [InlineData("var r = " + Groups + ".Select(g => string.Join(\",\", {|LSQ0007:g.Select(b => b.Bidder)|}));")]
    [InlineData("var r = " + Groups + ".Select(g => {|LSQ0007:g.Aggregate(0m, (a, b) => a + b.Price * g.Count())|});")]
    [InlineData("var r = " + Groups + ".Select(g => {|LSQ0007:g.Select(b => b.Price).MaxBy(p => p)|});")]
    [InlineData("var r = " + Groups + ".Select(g => {|LSQ0007:g.Select(b => b.Bidder).Distinct().ToList()|});")]
    [InlineData("var r = " + Groups + ".Select(g => {|LSQ0007:g.Select(b => b.Price).OrderByDescending(p => p).Take(3)|});")]
    [InlineData("var r = " + Groups + ".Select(g => {|LSQ0007:g.Skip(1).Count()|});")]
    [InlineData("var r = " + Groups + ".Where(g => {|LSQ0007:g.Last()|}.Price > 10).Select(g => g.Key);")]
    public Task WindowExpression_WithoutIncrementalForm_Triggers(string code) => VerifyRule.Statements(code);

    [Fact]
    public Task WindowExpression_InQuerySyntax_Triggers() =>
        VerifyRule.Statements("""
            var r = from b in bids.TumblingWindow(TimeSpan.FromMinutes(1))
                    group b by b.Auction into g
                    select new { g.Key, All = {|LSQ0007:g.ToArray()|} };
            """);

    [Theory]
    [InlineData("var r = " + Window + ".Select(w => new { N = w.Count(), L = w.LongCount(), S = w.Sum(b => b.Price), A = w.Average(b => b.Price), w.Window.End });")]
    [InlineData("var r = " + Groups + ".Select(g => new { g.Key, g.Window.Start, Min = g.Min(b => b.Price), Max = g.Max(b => b.Time), Any = g.Any(b => b.Price > 10), All = g.All(b => b.Price > 0) });")]
    [InlineData("var r = " + Groups + ".Select(g => new { Bidders = g.Select(b => b.Bidder).Distinct().Count(), Top = g.OrderByDescending(b => b.Price).Take(3) });")]
    [InlineData("var r = " + Groups + ".Select(g => g.Where(b => b.Price > 10).Select(b => b.Price).Sum());")]
    [InlineData("var r = " + Groups + ".Where(g => g.Count() > 3).Select(g => new { g.Key, N = g.Count(b => b.Price > 5) });")]
    [InlineData("var r = " + Groups + ".Select(g => g.Aggregate(new Spread()));")]
    [InlineData("var r = " + Groups + ".Select(g => new { S = g.Sum(b => (decimal?)b.Price), F = g.Aggregate(0m, (a, b) => a + b.Price), M = g.MaxBy(b => b.Price), D = g.Select(b => b.Bidder).Distinct().Count(s => s != \"x\") });")]
    [InlineData("var r = " + Groups + ".Select(g => g.OrderByDescending(b => b.Price).ThenBy(b => b.Bidder).Select(b => b.Bidder).Take(2));")]
    [InlineData("var r = list.GroupBy(b => b.Auction).Select(g => g.ToList()).ToList();")]
    [InlineData("var r = rx.Buffer(10).Select(w => w.ToList());")]
    public Task WindowExpression_Incremental_DoesNotTrigger(string code) =>
        VerifyRule.Analyzer(Source.Wrap(code) + """

            public struct Spread : IAggregate<Bid, (decimal Min, decimal Max), decimal>
            {
                public (decimal Min, decimal Max) Initial() => (decimal.MaxValue, decimal.MinValue);
                public (decimal Min, decimal Max) Add((decimal Min, decimal Max) state, Bid input) => (Math.Min(state.Min, input.Price), Math.Max(state.Max, input.Price));
                public decimal Result((decimal Min, decimal Max) state) => state.Max - state.Min;
            }
            """);
}
