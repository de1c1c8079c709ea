using VerifyRule = LinqStream.Analyzers.Tests.Verifiers.Verify<LinqStream.Analyzers.WindowArgumentAnalyzer>;

namespace LinqStream.Analyzers.Tests.Analyzers;

public sealed class WindowArgumentAnalyzerTests
{
    [Theory]
    [InlineData("var r = bids.TumblingWindow({|LSQ0004:TimeSpan.Zero|});")]
    [InlineData("var r = bids.TumblingWindow({|LSQ0004:default|});")]
    [InlineData("var r = bids.TumblingWindow({|LSQ0004:TimeSpan.FromSeconds(0)|});")]
    [InlineData("var r = bids.TumblingWindow({|LSQ0004:-TimeSpan.FromSeconds(10)|});")]
    [InlineData("var r = bids.TumblingWindow({|LSQ0004:new TimeSpan(0, 0, -5)|});")]
    [InlineData("var r = bids.TumblingWindow(size: {|LSQ0004:TimeSpan.FromMilliseconds(-1.5)|});")]
    [InlineData("var r = bids.HoppingWindow(TimeSpan.FromMinutes(1), {|LSQ0004:TimeSpan.Zero|});")]
    [InlineData("var r = bids.HoppingWindow({|LSQ0004:TimeSpan.FromMinutes(-1)|}, TimeSpan.FromSeconds(10));")]
    [InlineData("var r = bids.HoppingWindow(TimeSpan.FromMinutes(1), {|LSQ0004:TimeSpan.FromMinutes(5)|});")]
    [InlineData("var r = bids.HoppingWindow(TimeSpan.FromSeconds(60), {|LSQ0004:new TimeSpan(0, 1, 1)|});")]
    [InlineData("var r = bids.SessionWindow({|LSQ0004:new TimeSpan(0)|});")]
    [InlineData("var r = bids.SessionWindow(TimeSpan.FromMinutes(5), {|LSQ0004:TimeSpan.FromSeconds(0)|});")]
    public Task WindowArgument_ConstantAndWrong_Triggers(string code) => VerifyRule.Statements(code);

    [Fact]
    public Task HoppingWindow_HopLargerThanSize_SaysSo() =>
        VerifyRule.Statements(
            "var r = bids.HoppingWindow({|#1:TimeSpan.FromMinutes(1)|}, {|#0:TimeSpan.FromMinutes(5)|});",
            new Microsoft.CodeAnalysis.Testing.DiagnosticResult(DiagnosticDescriptors.InvalidWindowArgument)
                .WithLocation(0)
                .WithLocation(1)
                .WithArguments("hop", "TimeSpan.FromMinutes(5)", "HoppingWindow", "is larger than its size 'TimeSpan.FromMinutes(1)', which the operator rejects; make the hop at most the size (equal to the size is a tumbling window)"));

    [Fact]
    public Task TumblingWindow_ZeroSize_SaysSo() =>
        VerifyRule.Statements(
            "var r = bids.TumblingWindow({|#0:TimeSpan.Zero|});",
            new Microsoft.CodeAnalysis.Testing.DiagnosticResult(DiagnosticDescriptors.InvalidWindowArgument)
                .WithLocation(0)
                .WithArguments("size", "TimeSpan.Zero", "TumblingWindow", "is zero; give the window a size greater than zero"));

    [Theory]
    [InlineData("var r = bids.TumblingWindow(TimeSpan.FromMinutes(1));")]
    [InlineData("var r = bids.TumblingWindow(new TimeSpan(0, 5, 0));")]
    [InlineData("var r = bids.HoppingWindow(TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(10));")]
    [InlineData("var r = bids.HoppingWindow(TimeSpan.FromHours(1), TimeSpan.FromSeconds(30));")]
    [InlineData("var r = bids.SessionWindow(TimeSpan.FromMinutes(5));")]
    [InlineData("var r = bids.SessionWindow(TimeSpan.FromMinutes(5), null);")]
    [InlineData("var r = bids.SessionWindow(TimeSpan.FromMinutes(5), TimeSpan.FromHours(1));")]
    [InlineData("var size = TimeSpan.FromSeconds(list.Count); var r = bids.TumblingWindow(size);")]
    [InlineData("TimeSpan size = TimeSpan.Zero; if (list.Count > 0) { size = TimeSpan.FromSeconds(1); } var r = bids.TumblingWindow(size);")]
    [InlineData("var r = list.Chunk(0 + 1).Select(c => TimeSpan.Zero).ToList();")]
    public Task WindowArgument_PositiveOrNotConstant_DoesNotTrigger(string code) => VerifyRule.Statements(code);

    [Theory]
    [InlineData("TimeSpan size = TimeSpan.Zero; var r = bids.TumblingWindow({|LSQ0004:size|});")]
    [InlineData("var hop = TimeSpan.FromSeconds(-1); var r = bids.HoppingWindow(TimeSpan.FromSeconds(10), {|LSQ0004:hop|});")]
    public Task WindowArgument_LocalWithOneNonPositiveValue_Triggers(string code) => VerifyRule.Statements(code);

    [Fact]
    public Task WindowArgument_StaticReadonlyFieldThatIsZero_Triggers() =>
        VerifyRule.Analyzer(Verifiers.Source.Usings + """
            public static class Windows
            {
                private static readonly TimeSpan s_size = TimeSpan.Zero;

                public static object Run(IQStream<int> s) => s.TumblingWindow({|LSQ0004:s_size|});
            }
            """);
}
