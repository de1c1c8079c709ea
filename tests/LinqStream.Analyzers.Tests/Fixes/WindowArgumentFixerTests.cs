using VerifyRule = LinqStream.Analyzers.Tests.Verifiers.Verify<LinqStream.Analyzers.WindowArgumentAnalyzer>;

namespace LinqStream.Analyzers.Tests.Fixes;

public sealed class WindowArgumentFixerTests
{
    [Theory]
    [InlineData("var r = bids.TumblingWindow({|LSQ0004:-TimeSpan.FromSeconds(5)|}).Select(w => w.Count());", "var r = bids.TumblingWindow(TimeSpan.FromSeconds(5)).Select(w => w.Count());")]
    [InlineData("var r = bids.TumblingWindow({|LSQ0004:TimeSpan.FromMinutes(-1)|}).Select(w => w.Count());", "var r = bids.TumblingWindow(TimeSpan.FromMinutes(1)).Select(w => w.Count());")]
    [InlineData("var r = bids.SessionWindow({|LSQ0004:new TimeSpan(0, -5, 0)|}).Select(w => w.Count());", "var r = bids.SessionWindow(new TimeSpan(0, -5, 0).Duration()).Select(w => w.Count());")]
    [InlineData("var gap = TimeSpan.FromSeconds(-30); var r = bids.SessionWindow({|LSQ0004:gap|}).Select(w => w.Count());", "var gap = TimeSpan.FromSeconds(-30); var r = bids.SessionWindow(gap.Duration()).Select(w => w.Count());")]
    public async Task NegativeLength_BecomesItsMagnitude(string before, string after)
    {
        await VerifyRule.Fix<WindowArgumentFixer>(before, after, WindowArgumentFixer.MagnitudeKey);
        await FixedCode.AssertCleanAsync(after);
    }

    [Fact]
    public async Task HopLargerThanSize_SwapsThem()
    {
        const string after = "var r = bids.HoppingWindow(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2)).Select(w => w.Count());";
        await VerifyRule.Fix<WindowArgumentFixer>(
            "var r = bids.HoppingWindow(TimeSpan.FromSeconds(2), {|LSQ0004:TimeSpan.FromSeconds(10)|}).Select(w => w.Count());",
            after,
            WindowArgumentFixer.SwapKey);
        await FixedCode.AssertCleanAsync(after);
    }

    [Fact]
    public Task ZeroLength_HasNoFix() =>
        VerifyRule.Fix<WindowArgumentFixer>(
            "var r = bids.TumblingWindow({|LSQ0004:TimeSpan.Zero|}).Select(w => w.Count());",
            "var r = bids.TumblingWindow({|LSQ0004:TimeSpan.Zero|}).Select(w => w.Count());");
}
