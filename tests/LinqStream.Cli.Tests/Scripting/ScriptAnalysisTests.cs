using System.Reflection;
using LinqStream.Cli.Scripting;
using Microsoft.CodeAnalysis;

namespace LinqStream.Cli.Tests.Scripting;

public sealed class ScriptAnalysisTests
{
    private static async Task<IReadOnlyList<(string Id, int Line, int Column)>> AnalyzeAsync(string code)
    {
        var diagnostics = await ScriptAnalysis.AnalyzeAsync(code, QueryScript.References(), QueryScript.Imports, CancellationToken.None);
        return [.. diagnostics.Select(d => (d.Id, d.Location.GetMappedLineSpan().StartLinePosition.Line + 1, d.Location.GetMappedLineSpan().StartLinePosition.Character + 1))];
    }

    [Fact]
    public async Task ProcessingTimeInATopLevelQuery_IsReportedAtItsLineAndColumn()
    {
        const string code = "// the wall clock in a filter\nfrom r in input\nwhere r.Time < DateTime.Now\nselect r.Long(\"price\")\n";

        var diagnostics = await AnalyzeAsync(code);

        Assert.Equal([("LSQ0002", 3, 16)], diagnostics);
    }

    [Fact]
    public async Task UnwindowedCount_IsAnErrorAtItsLine_AfterUsingsDeclarationsAndStatements()
    {
        const string code = """
            using System.Reactive.Linq;

            record Bid(long Auction, long Price, DateTime Time);

            var bids = InputAs<Bid>().Where(b => b.Price > 10);
                bids.Count()
            """;

        var diagnostics = await AnalyzeAsync(code);

        Assert.Equal([("LSQ0001", 6, 10)], diagnostics);
    }

    [Fact]
    public async Task MethodDeclaredByTheScript_IsAnalyzedAndMayUseTopLevelVariables()
    {
        const string code = """
            var gap = TimeSpan.FromSeconds(5);
            public IQStream<long> Prices() => from r in input where r.Time.Ticks % 2 == 0 || Guid.NewGuid() != default select r.Long("p");
            Prices().Where(p => p > gap.Ticks)
            """;

        var diagnostics = await AnalyzeAsync(code);

        Assert.Equal([("LSQ0002", 2, 82)], diagnostics);
    }

    [Fact]
    public async Task CleanQuery_HasNoDiagnostics()
    {
        const string code = """
            from r in input.TumblingWindow(TimeSpan.FromSeconds(10))
            group r by r.Long("auction") into g
            select new { Auction = g.Key, Bids = g.Count(), g.Window.End }
            """;

        Assert.Empty(await AnalyzeAsync(code));
    }

    [Fact]
    public void Wrap_CopiesEveryPieceAtItsOwnLineAndColumn()
    {
        const string code = "using System.Text;\n\nrecord A(int X);\n  var x = 1; var y = x +\n    2;\nx + y\n";

        string wrapped = ScriptAnalysis.Wrap(code);

        // Each copied piece is preceded by the #line of its first line and padded to its column.
        Assert.Contains("#line 1 \"query.csx\"\nusing System.Text;", wrapped, StringComparison.Ordinal);
        Assert.Contains("#line 3 \"query.csx\"\nrecord A(int X);", wrapped, StringComparison.Ordinal);
        Assert.Contains("#line 4 \"query.csx\"\n  var x = 1;", wrapped, StringComparison.Ordinal);
        Assert.Contains("#line 4 \"query.csx\"\n             var y = x +\n    2;", wrapped, StringComparison.Ordinal);
        Assert.Contains("#line default\nreturn\n#line 6 \"query.csx\"\nx + y;", wrapped, StringComparison.Ordinal);
    }

    [Fact]
    public void GlobalsPrelude_DeclaresEveryPublicMemberOfRunGlobals()
    {
        var members = typeof(RunGlobals).GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => m is PropertyInfo || (m is MethodInfo method && !method.IsSpecialName))
            .Select(m => m.Name)
            .ToList();

        Assert.NotEmpty(members);
        Assert.All(members, name => Assert.Matches($@"\b{name}\b(<T>)?(\(\))? =>", ScriptAnalysis.GlobalsPrelude));
    }

    [Fact]
    public void EveryLinqStreamAnalyzerIsLoaded() =>
        Assert.Equal(
            ["LSQ0001", "LSQ0002", "LSQ0003", "LSQ0004", "LSQ0005", "LSQ0006", "LSQ0007", "LSQ0008", "LSQ0009", "LSQ0010"],
            ScriptAnalysis.Analyzers.SelectMany(a => a.SupportedDiagnostics).Select(d => d.Id).Distinct().Order(StringComparer.Ordinal));
}
