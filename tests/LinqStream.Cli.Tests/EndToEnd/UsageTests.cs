namespace LinqStream.Cli.Tests.EndToEnd;

[Trait("Category", "Slow")] // Slow (fast suite skips it): runs the linqstream CLI in child processes
public sealed class UsageTests
{
    [Theory]
    [InlineData("frobnicate")]
    [InlineData("demo", "--no-such-option")]
    [InlineData("demo", "--events", "zero")]
    [InlineData("explain")]
    [InlineData("explain", "--query", "q99")]
    [InlineData("run")]
    [InlineData("run", "query.csx")]
    [InlineData("nexmark")]
    public async Task BadVerbOrOption_ExitsWithUsageCode2AndSaysWhy(params string[] args)
    {
        var result = await CliProcess.RunAsync(args);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.NotEqual(string.Empty, result.Error.Trim());
    }

    [Fact]
    public async Task Help_ExitsZeroAndListsTheCommands()
    {
        var result = await CliProcess.RunAsync("--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("demo", result.Output, StringComparison.Ordinal);
        Assert.Contains("explain", result.Output, StringComparison.Ordinal);
        Assert.Contains("run", result.Output, StringComparison.Ordinal);
        Assert.Contains("nexmark", result.Output, StringComparison.Ordinal);
    }
}
