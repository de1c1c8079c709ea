using VerifyRule = LinqStream.Analyzers.Tests.Verifiers.Verify<LinqStream.Analyzers.CapturedLocalAnalyzer>;

namespace LinqStream.Analyzers.Tests.Analyzers;

public sealed class CapturedLocalAnalyzerTests
{
    [Fact]
    public Task CapturedLocal_AssignedAfterTheQuery_Triggers() =>
        VerifyRule.Statements("""
            var min = 10m;
            var r = bids.Where(b => b.Price > {|LSQ0006:min|});
            min = 20m;
            """);

    [Fact]
    public Task CapturedLocal_MessageNamesTheLineAndPointsAtTheAssignment() =>
        VerifyRule.Statements(
            """
            var min = 10m;
            var r = bids.Where(b => b.Price > {|#0:min|});
            {|#1:min = 20m|};
            """,
            new Microsoft.CodeAnalysis.Testing.DiagnosticResult(DiagnosticDescriptors.CapturedLocalAssignedLater).WithLocation(0).WithLocation(1).WithArguments("min", 13));

    [Fact]
    public Task CapturedLocal_IncrementedOrCompoundAssignedAfter_Triggers() =>
        VerifyRule.Statements("""
            var n = 1;
            var factor = 2m;
            var r = bids.Select(b => b.Price * {|LSQ0006:factor|} + {|LSQ0006:n|});
            n++;
            factor *= 2;
            """);

    [Fact]
    public Task CapturedParameter_AssignedAfter_Triggers() =>
        VerifyRule.Statements("""
            var r = bids.Where(b => {|LSQ0006:list|}.Count > 0);
            list = new List<Bid>();
            """);

    [Fact]
    public Task CapturedLocal_InQuerySyntax_Triggers() =>
        VerifyRule.Statements("""
            var min = 10m;
            var r = from b in bids
                    where b.Price > {|LSQ0006:min|}
                    select b.Auction;
            min = 0;
            """);

    [Fact]
    public Task CapturedLocal_AssignedThroughOut_Triggers() =>
        VerifyRule.Statements("""
            var min = 10m;
            var r = bids.Where(b => b.Price > {|LSQ0006:min|});
            decimal.TryParse("20", out min);
            """);

    [Theory]
    [InlineData("var min = 10m; min = 15m; var r = bids.Where(b => b.Price > min);")]
    [InlineData("var min = 10m; var r = list.Where(b => b.Price > min); min = 20m;")]
    [InlineData("var min = 10m; var r = rx.Where(b => b.Price > min); min = 20m;")]
    [InlineData("var min = 10m; var r = bids.Where(b => b.Price > min); var other = min + 1;")]
    [InlineData("var r = bids.Select(b => list.Select(x => x.Price * 2).Sum()); var count = 0; count++;")]
    [InlineData("var r = from b in bids let p = b.Price * 2 where p > 10 select p;")]
    [InlineData("var seen = 0; var r = bids.Select(b => b.Price); r.Subscribe(p => seen++); seen = 0;")]
    public Task NotCapturedOrNotAssignedLater_DoesNotTrigger(string code) => VerifyRule.Statements(code);
}
