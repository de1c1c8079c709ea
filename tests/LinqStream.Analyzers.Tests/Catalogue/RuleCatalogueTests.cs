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

    private static readonly string[] s_sections = ["## What it means", "## Why it matters for a stream", "## How to fix", "## Non-compliant", "## Compliant"];

    private static readonly string[] s_releaseFiles = ["AnalyzerReleases.Shipped.md", "AnalyzerReleases.Unshipped.md"];

    private static readonly string[] s_entryProperties = ["Family", "Reason", "Fix"];

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

    [Fact]
    public void TranslationCatalogue_IsTheSameInTheAnalyzerAndTheRuntime()
    {
        var runtime = typeof(QStream).Assembly.GetType("LinqStream.Query.Translation.TranslationCatalogue", throwOnError: true)!;
        var analyzer = typeof(DiagnosticDescriptors).Assembly.GetType("LinqStream.Query.Translation.TranslationCatalogue", throwOnError: true)!;
        foreach (var field in new[] { "Translated", "IncrementalAggregates" })
        {
            Assert.Equal(Read<string[]>(runtime, field), Read<string[]>(analyzer, field));
        }

        foreach (var name in new[] { "Count", "GroupBy", "OrderBy", "LastAsync", "Throttle", "Take", "Publish", "Where" })
        {
            Assert.Equal(Describe(runtime, name), Describe(analyzer, name));
        }

        static T Read<T>(Type type, string field) => (T)type.GetField(field, BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;

        static string? Describe(Type catalogue, string name)
        {
            var entry = catalogue.GetMethod("FindRejected")!.Invoke(null, [name]);
            return entry is null ? null : string.Join(" | ", s_entryProperties.Select(p => entry.GetType().GetProperty(p)!.GetValue(entry)));
        }
    }
}
