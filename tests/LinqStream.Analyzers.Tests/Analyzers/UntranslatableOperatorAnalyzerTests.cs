using VerifyRule = LinqStream.Analyzers.Tests.Verifiers.Verify<LinqStream.Analyzers.UntranslatableOperatorAnalyzer>;

namespace LinqStream.Analyzers.Tests.Analyzers;

public sealed class UntranslatableOperatorAnalyzerTests
{
    [Theory]
    [InlineData("var r = bids.{|LSQ0008:Throttle(TimeSpan.FromSeconds(1))|};")]
    [InlineData("var r = bids.{|LSQ0008:Sample(TimeSpan.FromSeconds(1))|};")]
    [InlineData("var r = bids.{|LSQ0008:Timestamp()|};")]
    [InlineData("var r = bids.{|LSQ0008:Take(10)|};")]
    [InlineData("var r = bids.{|LSQ0008:Skip(10)|};")]
    [InlineData("var r = bids.{|LSQ0008:Zip(auctions, (b, a) => b.Price)|};")]
    [InlineData("var r = bids.{|LSQ0008:DistinctUntilChanged()|};")]
    [InlineData("var r = bids.{|LSQ0008:Do(b => Console.WriteLine(b))|};")]
    [InlineData("var r = bids.{|LSQ0008:Retry()|};")]
    public Task RxOperator_OnStream_Triggers(string code) => VerifyRule.Statements(code);

    [Fact]
    public Task RxOperator_UnknownToTheCatalogue_Triggers() =>
        VerifyRule.Statements("var r = bids.{|LSQ0008:IgnoreElements()|};");

    [Fact]
    public Task RxOperator_MessageQuotesTheCatalogue() =>
        VerifyRule.Statements(
            "var r = bids.{|#0:Throttle(TimeSpan.FromSeconds(1))|};",
            new Microsoft.CodeAnalysis.Testing.DiagnosticResult(DiagnosticDescriptors.UntranslatableOperator)
                .WithLocation(0)
                .WithArguments(
                    "Throttle",
                    "it depends on the wall clock or a scheduler, so a replay would give a different answer than the live run",
                    "Use event-time operators: TumblingWindow/HoppingWindow/SessionWindow for batching, ShiftTime to delay, and the event's own time instead of Timestamp"));

    [Theory]
    [InlineData("var r = rx.Throttle(TimeSpan.FromSeconds(1)).Take(10).Zip(rx, (a, b) => a.Price).DistinctUntilChanged();")]
    [InlineData("var r = list.Take(10).Skip(1).Zip(list, (a, b) => a.Price).ToList();")]
    [InlineData("var r = bids.Where(b => b.Price > 10).Select(b => b.Price).Merge(bids.Select(b => b.Price));")]
    [InlineData("var r = bids.SelectMany(b => new[] { b.Price, b.Price * 2 });")]
    [InlineData("var r = bids.Count(); var s = bids.GroupBy(b => b.Auction);")]
    [InlineData("var r = bids.Subscribe(b => Console.WriteLine(b));")]
    [InlineData("var r = bids.AsQbservable().Take(10).Throttle(TimeSpan.FromSeconds(1));")]
    public Task TranslatedOrNonStreamOperators_DoNotTrigger(string code) => VerifyRule.Statements(code);
}
