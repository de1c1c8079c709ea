using System.Text.RegularExpressions;

namespace LinqStream.Cli.Tests.Docs;

/// <summary>
/// Keeps the documentation honest: every line of every <c>```csharp</c> block in README.md and docs/ must appear in one of the
/// example tests of this folder, which compile against the current API and run.
/// </summary>
public sealed partial class DocsCodeBlocksTests
{
    public static TheoryData<string> Pages() => ["README.md", "docs/queries.md", "docs/semantics.md", "docs/cli.md", "docs/checkpoints.md"];

    [Theory]
    [MemberData(nameof(Pages))]
    public void EveryCSharpLineOfThePage_AppearsInACompiledExample(string page)
    {
        string root = RepositoryRoot();
        var tested = Directory.EnumerateFiles(Path.Combine(root, "tests", "LinqStream.Cli.Tests", "Docs"), "*.cs")
            .SelectMany(File.ReadAllLines).Select(Normalize).ToHashSet(StringComparer.Ordinal);

        var blocks = CSharpBlock().Matches(File.ReadAllText(Path.Combine(root, page))).Select(m => m.Groups["code"].Value).ToList();
        var missing = blocks.SelectMany(b => b.Split('\n')).Select(Normalize)
            .Where(line => line.Length > 0 && !line.StartsWith("using ", StringComparison.Ordinal) && !line.StartsWith("//", StringComparison.Ordinal))
            .Where(line => !tested.Contains(line))
            .ToList();

        Assert.NotEmpty(blocks);
        Assert.True(missing.Count == 0, $"{page}: lines not found in any example test:\n{string.Join('\n', missing)}");
    }

    [Fact]
    public void AdrPages_HaveNoCSharpBlocks()
    {
        // ADRs show shapes, not API calls: their code blocks are 'text', so they need no compiled twin.
        foreach (var page in Directory.EnumerateFiles(Path.Combine(RepositoryRoot(), "docs", "adr"), "*.md"))
        {
            Assert.DoesNotMatch(CSharpBlock(), File.ReadAllText(page));
        }
    }

    private static string Normalize(string line) => WhiteSpace().Replace(line.Trim(), " ");

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "LinqStream.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No LinqStream.sln above '{AppContext.BaseDirectory}'.");
    }

    [GeneratedRegex(@"```csharp\r?\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhiteSpace();
}
