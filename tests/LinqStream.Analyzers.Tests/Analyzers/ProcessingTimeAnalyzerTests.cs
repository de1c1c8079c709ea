using VerifyRule = LinqStream.Analyzers.Tests.Verifiers.Verify<LinqStream.Analyzers.ProcessingTimeAnalyzer>;

namespace LinqStream.Analyzers.Tests.Analyzers;

public sealed class ProcessingTimeAnalyzerTests
{
    [Theory]
    [InlineData("var r = bids.Where(b => b.Time > {|LSQ0002:DateTime.UtcNow|}.AddMinutes(-5));")]
    [InlineData("var r = bids.Where(b => b.Time > {|LSQ0002:DateTime.Now|});")]
    [InlineData("var r = bids.Where(b => b.Time > {|LSQ0002:DateTimeOffset.UtcNow|}.UtcDateTime);")]
    [InlineData("var r = bids.Select(b => {|LSQ0002:DateTimeOffset.Now|});")]
    [InlineData("var r = bids.Where(b => {|LSQ0002:Environment.TickCount64|} > 0);")]
    [InlineData("var r = bids.Select(b => {|LSQ0002:Environment.TickCount|});")]
    [InlineData("var r = bids.Select(b => {|LSQ0002:System.Diagnostics.Stopwatch.GetTimestamp()|});")]
    [InlineData("var r = bids.Select(b => new { b.Auction, Id = {|LSQ0002:Guid.NewGuid()|} });")]
    [InlineData("var r = bids.Select(b => {|LSQ0002:Random.Shared.Next()|});")]
    [InlineData("var r = bids.Select(b => {|LSQ0002:new Random(42).NextDouble()|});")]
    [InlineData("var r = QStream.From(list, b => {|LSQ0002:DateTimeOffset.Now|});")]
    [InlineData("var r = bids.TumblingWindow(TimeSpan.FromMinutes(1)).Select(w => w.Count(b => b.Time < {|LSQ0002:DateTime.Now|}));")]
    [InlineData("var r = bids.Throttle(TimeSpan.FromSeconds(1)).Select(b => {|LSQ0002:DateTime.UtcNow|});")]
    public Task ClockOrRandom_InQueryLambda_Triggers(string code) => VerifyRule.Statements(code);

    [Fact]
    public Task ClockOrRandom_CapturedInstance_Triggers() =>
        VerifyRule.Statements("""
            var random = new Random(1);
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var r = bids.Select(b => new { A = {|LSQ0002:random.Next(10)|}, B = {|LSQ0002:watch.ElapsedTicks|} });
            """);

    [Fact]
    public Task ClockOrRandom_InQuerySyntax_Triggers() =>
        VerifyRule.Statements("""
            var r = from b in bids
                    where b.Time < {|LSQ0002:DateTime.UtcNow|}
                    select new { b.Auction, Seen = {|LSQ0002:DateTime.UtcNow|} };
            """);

    [Fact]
    public Task ClockOrRandom_MessageSaysWhatItReads() =>
        VerifyRule.Statements(
            "var r = bids.Select(b => {|#0:Guid.NewGuid()|});",
            new Microsoft.CodeAnalysis.Testing.DiagnosticResult(DiagnosticDescriptors.ProcessingTime).WithLocation(0).WithArguments("Guid.NewGuid()", "a random value"));

    [Theory]
    [InlineData("var now = DateTime.UtcNow; var r = bids.Where(b => b.Time > now);")]
    [InlineData("var r = list.Where(b => b.Time < DateTime.UtcNow).Select(b => Guid.NewGuid()).ToList();")]
    [InlineData("var r = rx.Where(b => b.Time < DateTime.UtcNow).Select(b => Random.Shared.Next());")]
    [InlineData("var r = bids.Subscribe(b => Console.WriteLine(DateTime.UtcNow));")]
    [InlineData("var r = bids.TumblingWindow(TimeSpan.FromMinutes(1)).Select(w => w.Window.End);")]
    [InlineData("var r = bids.Where(b => b.Time > DateTime.MinValue && b.Time.Ticks > TimeSpan.TicksPerDay);")]
    public Task ClockOrRandom_OutsideQueryLambdas_DoesNotTrigger(string code) => VerifyRule.Statements(code);
}
