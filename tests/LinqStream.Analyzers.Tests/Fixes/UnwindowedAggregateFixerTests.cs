using VerifyRule = LinqStream.Analyzers.Tests.Verifiers.Verify<LinqStream.Analyzers.UnwindowedAggregateAnalyzer>;

namespace LinqStream.Analyzers.Tests.Fixes;

public sealed class UnwindowedAggregateFixerTests
{
    [Theory]
    [InlineData("var r = bids.{|LSQ0001:Count()|};", "var r = bids.TumblingWindow(TimeSpan.FromMinutes(1)).Select(w => w.Count());")]
    [InlineData("var r = bids.{|LSQ0001:Sum(b => b.Price)|};", "var r = bids.TumblingWindow(TimeSpan.FromMinutes(1)).Select(w => w.Sum(b => b.Price));")]
    [InlineData("var r = bids.Where(b => b.Price > 10).{|LSQ0001:Max(b => b.Price)|};", "var r = bids.Where(b => b.Price > 10).TumblingWindow(TimeSpan.FromMinutes(1)).Select(w => w.Max(b => b.Price));")]
    public async Task Aggregate_MovesIntoAWindowSelect(string before, string after)
    {
        await VerifyRule.Fix<UnwindowedAggregateFixer>(before, after, UnwindowedAggregateFixer.AggregateInWindowKey);
        await FixedCode.AssertCleanAsync(after);
    }

    /// <summary>Inside a window these have no incremental form (LSQ0007 would flag the fix) or no same-named form: no fix rather than a buffering one.</summary>
    [Theory]
    [InlineData("var r = bids.{|LSQ0001:LastAsync()|};")]
    [InlineData("var r = bids.Select(b => b.Bidder).{|LSQ0001:Distinct()|};")]
    [InlineData("var r = bids.{|LSQ0001:ToList()|};")]
    [InlineData("var r = bids.{|LSQ0001:FirstAsync()|};")]
    public Task BufferingAggregate_HasNoFix(string code) => VerifyRule.Fix<UnwindowedAggregateFixer>(code, code);

    [Fact]
    public Task Aggregate_OnWindowedStream_MovesIntoItsSelectWithoutASecondWindow() =>
        VerifyRule.Fix<UnwindowedAggregateFixer>(
            "var r = bids.TumblingWindow(TimeSpan.FromSeconds(10)).{|LSQ0001:Count()|};",
            "var r = bids.TumblingWindow(TimeSpan.FromSeconds(10)).Select(w => w.Count());",
            UnwindowedAggregateFixer.AggregateInWindowKey);

    [Fact]
    public Task Aggregate_WhenWIsTaken_UsesAnotherParameterName() =>
        VerifyRule.Fix<UnwindowedAggregateFixer>(
            "var w = 2m; var r = bids.{|LSQ0001:Sum(b => b.Price * w)|};",
            "var w = 2m; var r = bids.TumblingWindow(TimeSpan.FromMinutes(1)).Select(window => window.Sum(b => b.Price * w));",
            UnwindowedAggregateFixer.AggregateInWindowKey);

    [Fact]
    public Task Aggregate_InAMultiLineChain_KeepsTheLayout() =>
        VerifyRule.Fix<UnwindowedAggregateFixer>(
            """
            var r = bids
                .Where(b => b.Price > 10)
                .{|LSQ0001:Count()|};
            """,
            """
            var r = bids
                .Where(b => b.Price > 10).TumblingWindow(TimeSpan.FromMinutes(1))
                .Select(w => w.Count());
            """,
            UnwindowedAggregateFixer.AggregateInWindowKey);

    [Fact]
    public Task GroupBy_InsertsAWindowBeforeIt() =>
        VerifyRule.Fix<UnwindowedAggregateFixer>(
            "var r = bids.{|LSQ0001:GroupBy(b => b.Auction)|}.Select(g => g.Key);",
            "var r = bids.TumblingWindow(TimeSpan.FromMinutes(1)).GroupBy(b => b.Auction).Select(g => g.Key);",
            UnwindowedAggregateFixer.InsertWindowKey);

    [Fact]
    public Task GroupBy_InQuerySyntax_WindowsTheFromSource() =>
        VerifyRule.Fix<UnwindowedAggregateFixer>(
            """
            var r = from b in bids
                    {|LSQ0001:group b by b.Auction|} into g
                    select new { g.Key };
            """,
            """
            var r = from b in bids.TumblingWindow(TimeSpan.FromMinutes(1))
                    group b by b.Auction into g
                    select new { g.Key };
            """,
            UnwindowedAggregateFixer.InsertWindowKey);

    [Fact]
    public Task GroupBy_InQuerySyntaxAfterWhere_WindowsTheFromSource() =>
        VerifyRule.Fix<UnwindowedAggregateFixer>(
            """
            var r = from b in bids
                    where b.Price > 10
                    {|LSQ0001:group b by b.Auction|} into g
                    select new { g.Key, N = g.Count() };
            """,
            """
            var r = from b in bids.TumblingWindow(TimeSpan.FromMinutes(1))
                    where b.Price > 10
                    group b by b.Auction into g
                    select new { g.Key, N = g.Count() };
            """,
            UnwindowedAggregateFixer.InsertWindowKey);

    [Fact]
    public Task Aggregate_WithoutUsingSystem_WritesTheFullTypeName() =>
        VerifyRule.FixUnit<UnwindowedAggregateFixer>(
            """
            using System.Linq;
            using System.Reactive.Linq;
            using LinqStream;

            public static class C
            {
                public static object Run(IQStream<int> values) => values.{|LSQ0001:Sum()|};
            }
            """,
            """
            using System.Linq;
            using System.Reactive.Linq;
            using LinqStream;

            public static class C
            {
                public static object Run(IQStream<int> values) => values.TumblingWindow(global::System.TimeSpan.FromMinutes(1)).Select(w => w.Sum());
            }
            """,
            UnwindowedAggregateFixer.AggregateInWindowKey);
}
