namespace LinqStream.Cli.Tests.EndToEnd;

public sealed class ExplainCommandTests
{
    [Fact]
    public async Task Explain_Q5_PrintsPhysicalPlanWithHoppingWindowAggregate()
    {
        var result = await CliProcess.RunAsync("explain", "--query", "q5");

        Assert.True(result.ExitCode == 0, result.ToString());
        int physical = result.Output.IndexOf("Physical plan:", StringComparison.Ordinal);
        Assert.True(physical >= 0, result.ToString());
        Assert.Contains("HoppingWindowAggregate", result.Output[physical..], StringComparison.Ordinal);
    }
}
