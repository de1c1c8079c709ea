namespace LinqStream.Cli.Tests.EndToEnd;

[Trait("Category", "Slow")] // Slow (fast suite skips it): runs the linqstream CLI in child processes
public sealed class NexmarkCommandTests
{
    [Theory]
    [InlineData("q0")]
    [InlineData("q1")]
    [InlineData("q2")]
    [InlineData("q5")]
    [InlineData("q7")]
    [InlineData("q8")]
    [InlineData("q11")]
    public async Task Nexmark_EveryQueryQuiet_ExitsZeroWithOneThroughputLine(string query)
    {
        var result = await CliProcess.RunAsync("nexmark", "--query", query, "--events", "50k", "--quiet");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches($@"^{query}: 50,000 events( \(read 2 times: once per input\))? in [\d.]+ s, [\d,]+ events/s, [1-9][\d,]* results\s*$", result.Output);
        Assert.Equal(string.Empty, result.Error);
    }

    [Theory]
    [InlineData("--query", "q99")]
    [InlineData("--events", "10X")]
    [InlineData("--events", "1.5k5")]
    public async Task Nexmark_BadQueryOrCount_ExitsTwo(string option, string value)
    {
        var result = await CliProcess.RunAsync(option == "--query" ? ["nexmark", option, value] : ["nexmark", "--query", "q0", option, value]);

        Assert.True(result.ExitCode == 2, result.ToString());
    }
}
