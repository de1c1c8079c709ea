namespace LinqStream.Cli.Tests.EndToEnd;

[Trait("Category", "Slow")] // Slow (fast suite skips it): runs the linqstream CLI in child processes
public sealed class ExplainCommandTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Explain_Q5_PrintsPhysicalPlanWithHoppingWindowAggregate()
    {
        var result = await CliProcess.RunAsync("explain", "--query", "q5");

        Assert.True(result.ExitCode == 0, result.ToString());
        int physical = result.Output.IndexOf("Physical plan:", StringComparison.Ordinal);
        Assert.True(physical >= 0, result.ToString());
        Assert.Contains("HoppingWindowAggregate", result.Output[physical..], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_Script_PrintsThePlanOfItsQueryWithoutAnInputFile()
    {
        string script = _folder.Write("hot.csx", """
            from r in input.TumblingWindow(TimeSpan.FromSeconds(10))
            group r by r.Long("auction") into g
            select new { Auction = g.Key, Bids = g.Count() }
            """);

        var result = await CliProcess.RunAsync("explain", script);

        Assert.True(result.ExitCode == 0, result.ToString());
        int physical = result.Output.IndexOf("Physical plan:", StringComparison.Ordinal);
        Assert.True(physical >= 0, result.ToString());
        Assert.Contains("TumblingWindowAggregate", result.Output[physical..], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_ScriptDoesNotCompile_ExitsThreeWithDiagnostics()
    {
        string script = _folder.Write("bad.csx", "from r in input\nselect r.Nope\n");

        var result = await CliProcess.RunAsync("explain", script);

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Contains("bad.csx(2,10): error CS1061", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_ScriptAndBuiltInQueryBoth_ExitsTwo()
    {
        string script = _folder.Write("q.csx", "input");

        var result = await CliProcess.RunAsync("explain", script, "--query", "q5");

        Assert.True(result.ExitCode == 2, result.ToString());
    }
}
