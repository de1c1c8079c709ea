using System.Text.RegularExpressions;

namespace LinqStream.Cli.Tests.EndToEnd;

[Trait("Category", "Slow")] // Slow (fast suite skips it): runs the linqstream CLI in child processes
public sealed class DemoCommandTests
{
    [Fact]
    public async Task Demo_200kEventsQuiet_ExitsZeroAndPrintsEveryQueryWithThroughputAndNoProgress()
    {
        var result = await CliProcess.RunAsync("demo", "--events", "200000", "--quiet");

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var name in new[] { "hot items", "sessions", "interval join" })
        {
            Assert.Matches(ThroughputLine(name), result.Output);
        }

        Assert.DoesNotContain('\u001b', result.Output); // --quiet: no progress bar, and no colour codes when redirected
        Assert.Equal(string.Empty, result.Error);
    }

    private static Regex ThroughputLine(string name) =>
        new($@"(?m)^{Regex.Escape(name)}: [\d,]+ events in [\d.]+ s, [\d,]+ events/s, [\d,]+ results\s*$");
}
