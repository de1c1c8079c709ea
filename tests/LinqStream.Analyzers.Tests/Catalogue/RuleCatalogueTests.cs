using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace LinqStream.Analyzers.Tests.Catalogue;

/// <summary>Keeps the descriptor catalogue, the analyzers, the docs pages and the release tracking files in step.</summary>
public sealed class RuleCatalogueTests
{
    private static readonly ImmutableArray<DiagnosticDescriptor> s_descriptors =
    [
        .. typeof(DiagnosticDescriptors).GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
            .OrderBy(d => d.Id, StringComparer.Ordinal),
    ];

    private static readonly ImmutableArray<DiagnosticAnalyzer> s_analyzers =
    [
        .. typeof(DiagnosticDescriptors).Assembly.GetTypes()
            .Where(t => t.GetCustomAttribute<DiagnosticAnalyzerAttribute>() is not null)
            .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!),
    ];

    private static readonly string[] s_sections = ["## What it means", "## Why it matters for a stream", "## How to fix", "## What it sees through", "## What it does not see", "## Non-compliant", "## Compliant"];

    private static readonly int[] s_values = [1, 2, 3];

    private static readonly string[] s_releaseFiles = ["AnalyzerReleases.Shipped.md", "AnalyzerReleases.Unshipped.md"];

    public static TheoryData<string> Ids => [.. s_descriptors.Select(d => d.Id)];

    [Fact]
    public void Descriptors_AreNumberedInOrderWithoutGaps() =>
        Assert.Equal(Enumerable.Range(1, s_descriptors.Length).Select(i => $"LSQ{i:D4}"), s_descriptors.Select(d => d.Id));

    [Fact]
    public void Descriptors_EachHaveADocsPage_AndEachDocsPageADescriptor()
    {
        var pages = Directory.GetFiles(Repository.PathOf("docs", "rules"), "*.md").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal);
        Assert.Equal(s_descriptors.Select(d => d.Id), pages);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void DocsPage_HasTheTitleAndEverySection(string id)
    {
        var descriptor = s_descriptors.Single(d => d.Id == id);
        var lines = File.ReadAllLines(Repository.PathOf("docs", "rules", id + ".md"));
        Assert.Equal($"# {id}: {descriptor.Title}", lines[0]);
        foreach (var section in s_sections)
        {
            Assert.Contains(section, lines);
        }

        Assert.Contains(lines, l => l.StartsWith($"| {descriptor.Category} | {descriptor.DefaultSeverity} |", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Descriptor_HelpLinkIsItsDocsPageUnderThePackagesProjectAddress(string id)
    {
        string project = System.Text.RegularExpressions.Regex.Match(File.ReadAllText(Repository.PathOf("Directory.Build.props")), "<PackageProjectUrl>(?<url>[^<]+)</PackageProjectUrl>").Groups["url"].Value;

        Assert.Equal($"{project}/blob/main/docs/rules/{id}.md", s_descriptors.Single(d => d.Id == id).HelpLinkUri);
        Assert.True(File.Exists(Repository.PathOf("docs", "rules", id + ".md")));
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Descriptor_IsRecordedInTheReleaseFiles(string id)
    {
        var descriptor = s_descriptors.Single(d => d.Id == id);
        var rows = s_releaseFiles
            .SelectMany(f => File.ReadAllLines(Repository.PathOf("analyzers", "LinqStream.Analyzers", f)))
            .Where(l => l.StartsWith(id + " ", StringComparison.Ordinal))
            .Select(l => l.Split('|').Select(c => c.Trim()).ToArray())
            .ToList();
        var row = Assert.Single(rows);
        Assert.Equal(descriptor.Category, row[1]);
        Assert.Equal(descriptor.DefaultSeverity.ToString(), row[2]);
    }

    [Fact]
    public void Descriptors_AreEachReportedByExactlyOneAnalyzer()
    {
        var supported = s_analyzers.SelectMany(a => a.SupportedDiagnostics).Select(d => d.Id).Order(StringComparer.Ordinal);
        Assert.Equal(s_descriptors.Select(d => d.Id), supported);
    }

    /// <summary>
    /// Every operator the catalogue rejects that Rx offers with a simple signature is built on a real stream and refused by the runtime
    /// translator with the catalogue's reason, and the analyzers flag the same call with LSQ0001 (aggregates) or LSQ0008 (the rest)
    /// quoting the same reason. A name the catalogue lists but the translator accepts, or the analyzer misses, fails here.
    /// </summary>
    [Fact]
    public async Task TranslationCatalogue_EachRejectedRxOperator_IsRefusedByTheTranslatorAndFlaggedByTheAnalyzers()
    {
        var cases = RejectedRxCalls().ToList();
        Assert.True(cases.Count >= 40, $"only {cases.Count} catalogue operators have a simple Rx signature");

        var stream = QStream.From(s_values, x => (long)x);
        foreach (var (method, argument, _) in cases)
        {
            var arguments = new List<object?> { stream };
            if (argument is not null)
            {
                arguments.Add(argument);
            }

            var query = (System.Reactive.Linq.IQbservable)method.Invoke(null, arguments.ToArray())!;
            var explain = typeof(QStream).GetMethod(nameof(QStream.Explain))!.MakeGenericMethod(query.ElementType);
            var thrown = Record.Exception(() => explain.Invoke(null, [query]));
            Assert.True(thrown is TargetInvocationException, $"'{method}' translates, but the catalogue rejects '{method.Name}'");
            var refused = Assert.IsType<QueryTranslationException>(thrown.InnerException);
            Assert.Equal(method.Name, refused.Operator);
            Assert.Contains(Query.Translation.TranslationCatalogue.FindRejected(method.Name)!.Reason, refused.Message, StringComparison.Ordinal);
        }

        var lines = cases.Select(c => $"var r{c.Method.Name}{c.Method.MetadataToken} = s.{c.Method.Name}({c.Text});").ToList();
        var source = Verifiers.Source.Usings + "public static class C\n{\n    public static void Run(IQStream<int> s)\n    {\n" + string.Join("\n", lines) + "\n    }\n}\n";
        var diagnostics = await AnalyzeAll(source);
        foreach (var (method, _, _) in cases)
        {
            var entry = Query.Translation.TranslationCatalogue.FindRejected(method.Name)!;
            string expected = entry.Family == "aggregate" ? "LSQ0001" : "LSQ0008";
            Assert.Contains(diagnostics, d => d.Id == expected && d.GetMessage(System.Globalization.CultureInfo.InvariantCulture).StartsWith($"'{method.Name}' cannot run on a stream: {entry.Reason}.", StringComparison.Ordinal));
        }
    }

    /// <summary>Each catalogue-rejected Rx operator with a signature (source), (source, int), (source, TimeSpan) or (source, predicate): the method over int, an argument and its C# text.</summary>
    private static IEnumerable<(MethodInfo Method, object? Argument, string Text)> RejectedRxCalls()
    {
        System.Linq.Expressions.Expression<Func<int, bool>> predicate = x => x > 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var method in typeof(System.Reactive.Linq.Qbservable).GetMethods(BindingFlags.Public | BindingFlags.Static).OrderBy(m => m.GetParameters().Length))
        {
            if (Query.Translation.TranslationCatalogue.FindRejected(method.Name) is null || !method.IsGenericMethodDefinition || method.GetGenericArguments().Length != 1 || seen.Contains(method.Name))
            {
                continue;
            }

            var closed = method.MakeGenericMethod(typeof(int));
            var parameters = closed.GetParameters();
            // Latest, Next and MostRecent return an IQueryable built by an IQueryProvider: they never reach the translator (see the note of issue 21).
            if (parameters.Length == 0 || parameters[0].ParameterType != typeof(System.Reactive.Linq.IQbservable<int>)
                || !closed.ReturnType.IsGenericType || closed.ReturnType.GetGenericTypeDefinition() != typeof(System.Reactive.Linq.IQbservable<>))
            {
                continue;
            }

            (object? Argument, string Text)? call = parameters.Length switch
            {
                1 => (null, ""),
                2 when parameters[1].ParameterType == typeof(int) => (1, "1"),
                2 when parameters[1].ParameterType == typeof(TimeSpan) => (TimeSpan.FromSeconds(1), "TimeSpan.FromSeconds(1)"),
                2 when parameters[1].ParameterType == predicate.GetType() || parameters[1].ParameterType == typeof(System.Linq.Expressions.Expression<Func<int, bool>>) => (predicate, "x => x > 0"),
                _ => null,
            };
            if (call is { } found && seen.Add(method.Name))
            {
                yield return (closed, found.Argument, found.Text);
            }
        }
    }

    private static async Task<ImmutableArray<Diagnostic>> AnalyzeAll(string source)
    {
        var tree = Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(source, new Microsoft.CodeAnalysis.CSharp.CSharpParseOptions(Microsoft.CodeAnalysis.CSharp.LanguageVersion.CSharp13));
        var compilation = Microsoft.CodeAnalysis.CSharp.CSharpCompilation.Create(
            "Catalogue", [tree], Verifiers.TestReferences.All, new Microsoft.CodeAnalysis.CSharp.CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        return await compilation.WithAnalyzers(s_analyzers).GetAnalyzerDiagnosticsAsync();
    }
}
