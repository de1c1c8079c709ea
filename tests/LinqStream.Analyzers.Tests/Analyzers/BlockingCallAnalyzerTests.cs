using VerifyRule = LinqStream.Analyzers.Tests.Verifiers.Verify<LinqStream.Analyzers.BlockingCallAnalyzer>;

namespace LinqStream.Analyzers.Tests.Analyzers;

public sealed class BlockingCallAnalyzerTests
{
    [Theory]
    [InlineData("var r = bids.Select(b => {|LSQ0003:Task.FromResult(b.Price).Result|});")]
    [InlineData("var r = bids.Select(b => {|LSQ0003:Task.FromResult(b.Price).GetAwaiter().GetResult()|});")]
    [InlineData("var r = bids.Where(b => {|LSQ0003:System.IO.File.Exists(b.Bidder)|});")]
    [InlineData("var r = bids.Select(b => {|LSQ0003:System.IO.File.ReadAllText(b.Bidder)|}.Length);")]
    [InlineData("var r = bids.Select(b => {|LSQ0003:new System.IO.StreamReader(b.Bidder)|}.Peek());")]
    [InlineData("var r = bids.Select(b => {|LSQ0003:new System.Net.Http.HttpClient().GetStringAsync(b.Bidder).Result|});")]
    [InlineData("var r = bids.Select(b => {|LSQ0003:System.Net.Dns.GetHostAddresses(b.Bidder)|}.Length);")]
    [InlineData("var r = bids.Select(b => {|LSQ0003:Console.ReadLine()|});")]
    [InlineData("var r = bids.Do(b => {|LSQ0003:System.Threading.Thread.Sleep(10)|});")]
    [InlineData("var r = bids.Do(b => {|LSQ0003:Task.Delay(10).Wait()|});")]
    public Task BlockingCall_InQueryLambda_Triggers(string code) => VerifyRule.Statements(code);

    [Fact]
    public Task BlockingCall_MessageSaysWhatItBlocksOn() =>
        VerifyRule.Statements(
            "var r = bids.Where(b => {|#0:System.IO.File.Exists(b.Bidder)|});",
            new Microsoft.CodeAnalysis.Testing.DiagnosticResult(DiagnosticDescriptors.BlockingCall).WithLocation(0).WithArguments("System.IO.File.Exists(b.Bidder)", "file I/O"));

    [Theory]
    [InlineData("var price = Task.FromResult(1m).Result; var r = bids.Where(b => b.Price > price);")]
    [InlineData("var r = list.Where(b => System.IO.File.Exists(b.Bidder)).Select(b => Task.FromResult(b.Price).Result).ToList();")]
    [InlineData("var r = rx.Select(b => Task.FromResult(b.Price).Result).Do(b => System.Threading.Thread.Sleep(1));")]
    [InlineData("var r = bids.Subscribe(b => System.IO.File.AppendAllText(\"log.txt\", b.Bidder));")]
    [InlineData("var r = bids.Select(b => new System.IO.StringReader(b.Bidder).Peek());")]
    public Task BlockingCall_OutsideQueryLambdas_DoesNotTrigger(string code) => VerifyRule.Statements(code);
}
