using Microsoft.CodeAnalysis;

namespace LinqStream.Analyzers;

/// <summary>Every rule LinqStream reports, one file per category; IDs are given in order of creation.</summary>
internal static partial class DiagnosticDescriptors
{
    /// <summary>
    /// Where the rule pages live (docs/rules/LSQnnnn.md in the repository): an absolute address, so that the link works for a package user's IDE.
    /// It is the package's project address (PackageProjectUrl in Directory.Build.props); a test keeps the two the same.
    /// </summary>
    public const string HelpLinkBase = "https://github.com/linqstream/linqstream/blob/main/docs/rules/";

    /// <summary>The query will not run as a stream: Subscribe throws, or an argument is rejected.</summary>
    public const string TranslationCategory = "Translation";

    /// <summary>The query runs, but its answer depends on when it runs rather than on event time.</summary>
    public const string TemporalCorrectnessCategory = "TemporalCorrectness";

    /// <summary>The query runs and is correct, but keeps more state or blocks more than it needs to.</summary>
    public const string PerformanceCategory = "Performance";

    private static DiagnosticDescriptor Create(string id, string category, DiagnosticSeverity severity, string title, string message, string description) =>
        new(
            id,
            title,
            message,
            category,
            severity,
            isEnabledByDefault: true,
            description: description,
            helpLinkUri: HelpLinkBase + id + ".md");
}
