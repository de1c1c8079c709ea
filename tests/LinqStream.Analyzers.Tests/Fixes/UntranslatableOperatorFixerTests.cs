using VerifyRule = LinqStream.Analyzers.Tests.Verifiers.Verify<LinqStream.Analyzers.UntranslatableOperatorAnalyzer>;

namespace LinqStream.Analyzers.Tests.Fixes;

public sealed class UntranslatableOperatorFixerTests
{
    [Theory]
    [InlineData("var r = bids.Where(b => b.Price > 1).{|LSQ0008:ObserveOn(System.Reactive.Concurrency.TaskPoolScheduler.Default)|};", "var r = bids.Where(b => b.Price > 1);")]
    [InlineData("var r = bids.{|LSQ0008:SubscribeOn(System.Reactive.Concurrency.TaskPoolScheduler.Default)|}.Select(b => b.Price);", "var r = bids.Select(b => b.Price);")]
    [InlineData("var r = bids.{|LSQ0008:Synchronize()|};", "var r = bids;")]
    public async Task SchedulingOrWrapperOperator_IsRemoved(string before, string after)
    {
        await VerifyRule.Fix<UntranslatableOperatorFixer>(before, after, UntranslatableOperatorFixer.RemoveKey);
        await FixedCode.AssertCleanAsync(after);
    }

    [Theory]
    [InlineData("var r = bids.{|LSQ0008:Take(10)|};")]
    [InlineData("var r = bids.{|LSQ0008:Throttle(TimeSpan.FromSeconds(1))|};")]
    [InlineData("var r = bids.{|LSQ0008:Wait()|};")]
    public Task OperatorThatChangesTheResult_HasNoFix(string code) => VerifyRule.Fix<UntranslatableOperatorFixer>(code, code);
}
