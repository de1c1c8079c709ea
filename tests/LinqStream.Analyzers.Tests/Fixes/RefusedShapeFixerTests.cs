using VerifyRule = LinqStream.Analyzers.Tests.Verifiers.Verify<LinqStream.Analyzers.RefusedShapeAnalyzer>;

namespace LinqStream.Analyzers.Tests.Fixes;

public sealed class RefusedShapeFixerTests
{
    [Theory]
    [InlineData(
        "var r = auctions.Where(a => a.Id > 0).{|LSQ0009:WithLifetime(a => a.Time, a => a.Expires)|};",
        "var r = auctions.WithLifetime(a => a.Time, a => a.Expires).Where(a => a.Id > 0);")]
    [InlineData(
        "var r = auctions.Where(a => a.Id > 0).Where(a => a.Seller != \"x\").{|LSQ0009:WithLifetime(a => a.Time, a => a.Expires)|}.Join(bids, a => a.Id, b => b.Auction, (a, b) => b.Price);",
        "var r = auctions.WithLifetime(a => a.Time, a => a.Expires).Where(a => a.Id > 0).Where(a => a.Seller != \"x\").Join(bids, a => a.Id, b => b.Auction, (a, b) => b.Price);")]
    public async Task WithLifetimeAfterFilters_MovesBeforeThem(string before, string after)
    {
        await VerifyRule.Fix<RefusedShapeFixer>(before, after, RefusedShapeFixer.MoveWithLifetimeKey);
        await FixedCode.AssertCleanAsync(after);
    }

    [Theory]
    [InlineData("var r = bids.{|LSQ0009:Select((b, i) => b.Price * i)|};")]
    [InlineData("var r = bids.{|LSQ0009:SessionWindow(TimeSpan.FromMinutes(5))|}.Subscribe(w => Console.WriteLine(w));")]
    [InlineData("var r = bids.Select(b => new { b.Auction, b.Time, Expires = b.Time }).{|LSQ0009:WithLifetime(x => x.Time, x => x.Expires)|};")]
    public Task ShapeWithoutAMeaningKeepingRewrite_HasNoFix(string code) => VerifyRule.Fix<RefusedShapeFixer>(code, code);
}
