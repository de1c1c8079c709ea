using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace LinqStream.Analyzers.Tests.Catalogue;

/// <summary>
/// Every public operator of the LinqStream package (each public static method of <c>QStream</c>, and any public extension
/// method on an <c>IQStream</c>/<c>IQWindowedStream</c> elsewhere in the assembly) has an entry in the translation catalogue as
/// the analyzers compiled it, and a row in docs/queries.md, so the IDE, <c>Subscribe</c> and the docs cover the same surface.
/// </summary>
public sealed partial class OperatorParityTests
{
    [Fact]
    public void EveryPublicOperator_HasACatalogueEntryAndADocsRow()
    {
        var operators = PublicOperators();
        Assert.Contains("Where", operators);
        Assert.Contains("ClipLifetime", operators);

        var problems = Missing(operators, Query.Translation.TranslationCatalogue.Translated, DocsRows(File.ReadAllText(Repository.PathOf("docs", "queries.md"))));

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Missing_AnOperatorWithoutCatalogueEntryOrDocsRow_IsReported()
    {
        // The check itself, over a synthetic surface: it must name each gap, not only pass on the real one.
        const string docs = """
            | Operator | What |
            |---|---|
            | `Where` | filters |
            | `Union`, `Merge` | merges |
            Some text mentioning `Frobnicate` outside a table.
            """;
        var rows = DocsRows(docs);
        string[] catalogue = ["Where", "Union", "Frobnicate"];

        var problems = Missing(["Where", "Union", "Merge", "Frobnicate", "Teleport"], catalogue, rows);

        Assert.Equal(
        [
            "'Merge' has no entry in TranslationCatalogue.Translated (the analyzers' catalogue).",
            "'Frobnicate' has no row in docs/queries.md (a table row whose first cell names it in backticks).",
            "'Teleport' has no entry in TranslationCatalogue.Translated (the analyzers' catalogue).",
            "'Teleport' has no row in docs/queries.md (a table row whose first cell names it in backticks).",
        ], problems);
        Assert.Empty(Missing(["Where", "Union"], catalogue, rows));
    }

    /// <summary>Lists each gap of <paramref name="operators"/> against the catalogue and the docs rows, in the operators' order.</summary>
    private static List<string> Missing(IEnumerable<string> operators, IReadOnlyCollection<string> catalogue, IReadOnlySet<string> docsRows)
    {
        var problems = new List<string>();
        foreach (var name in operators)
        {
            if (!catalogue.Contains(name, StringComparer.Ordinal))
            {
                problems.Add($"'{name}' has no entry in TranslationCatalogue.Translated (the analyzers' catalogue).");
            }

            if (!docsRows.Contains(name))
            {
                problems.Add($"'{name}' has no row in docs/queries.md (a table row whose first cell names it in backticks).");
            }
        }

        return problems;
    }

    /// <summary>The names in backticks in the first cell of each Markdown table row (<c>`Name`</c> or <c>`Name(...)`</c>).</summary>
    private static HashSet<string> DocsRows(string markdown)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in markdown.Split('\n'))
        {
            string trimmed = line.Trim();
            if (!trimmed.StartsWith('|'))
            {
                continue;
            }

            string firstCell = trimmed.Split('|')[1];
            foreach (Match match in NameInBackticks().Matches(firstCell))
            {
                names.Add(match.Groups["name"].Value);
            }
        }

        return names;
    }

    /// <summary>The distinct names of the package's public stream operators.</summary>
    private static List<string> PublicOperators()
    {
        var assembly = typeof(QStream).Assembly;
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in assembly.GetExportedTypes().Where(t => t.IsAbstract && t.IsSealed))
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                if (type == typeof(QStream) || (method.IsDefined(typeof(ExtensionAttribute)) && IsStream(method.GetParameters()[0].ParameterType)))
                {
                    names.Add(method.Name);
                }
            }
        }

        return [.. names];
    }

    private static bool IsStream(Type type) =>
        type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(IQStream<>) || type.GetGenericTypeDefinition() == typeof(IQWindowedStream<>));

    [GeneratedRegex(@"`(?<name>[A-Z][A-Za-z]*)(\(|`)")]
    private static partial Regex NameInBackticks();
}
