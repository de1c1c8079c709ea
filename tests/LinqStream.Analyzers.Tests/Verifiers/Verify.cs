using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace LinqStream.Analyzers.Tests.Verifiers;

/// <summary>Runs one analyzer (and its fixer) over a test source written with the testing framework's markup (<c>{|LSQ0001:...|}</c>).</summary>
internal static class Verify<TAnalyzer>
    where TAnalyzer : DiagnosticAnalyzer, new()
{
    /// <summary>Checks that <typeparamref name="TAnalyzer"/> reports exactly the marked spans of <paramref name="body"/> (method statements; see <see cref="Source.Wrap"/>).</summary>
    public static Task Statements(string body, params DiagnosticResult[] expected) => Analyzer(Source.Wrap(body), expected);

    /// <summary>Checks that <typeparamref name="TAnalyzer"/> reports exactly the marked spans of a whole compilation unit.</summary>
    public static Task Analyzer(string source, params DiagnosticResult[] expected)
    {
        var test = new CSharpAnalyzerTest<TAnalyzer, DefaultVerifier> { TestCode = source };
        Configure(test);
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }

    /// <summary>Checks that <typeparamref name="TFixer"/> turns <paramref name="before"/> into <paramref name="after"/> (both method statements).</summary>
    public static Task Fix<TFixer>(string before, string after, string? equivalenceKey = null)
        where TFixer : CodeFixProvider, new() =>
        FixUnit<TFixer>(Source.Wrap(before), Source.Wrap(after), equivalenceKey);

    /// <summary>Checks that <typeparamref name="TFixer"/> turns the compilation unit <paramref name="before"/> into <paramref name="after"/>.</summary>
    public static Task FixUnit<TFixer>(string before, string after, string? equivalenceKey = null)
        where TFixer : CodeFixProvider, new()
    {
        var test = new CSharpCodeFixTest<TAnalyzer, TFixer, DefaultVerifier>
        {
            TestCode = before,
            FixedCode = after,
            CodeActionEquivalenceKey = equivalenceKey,
        };
        Configure(test);
        return test.RunAsync();
    }

    private static void Configure<TVerifier>(AnalyzerTest<TVerifier> test)
        where TVerifier : IVerifier, new()
    {
        test.ReferenceAssemblies = TestReferences.None;
        test.TestState.AdditionalReferences.AddRange(TestReferences.All);
        test.SolutionTransforms.Add((solution, projectId) =>
        {
            var project = solution.GetProject(projectId)!;
            var options = ((CSharpCompilationOptions)project.CompilationOptions!).WithNullableContextOptions(NullableContextOptions.Enable);

            // Roslyn 4.14 (what the analyzers are built on, and what runs them here) knows C# 13 at most.
            var parse = ((CSharpParseOptions)project.ParseOptions!).WithLanguageVersion(LanguageVersion.CSharp13);
            return solution.WithProjectCompilationOptions(projectId, options).WithProjectParseOptions(projectId, parse);
        });
    }
}
