using LinqStream.Analyzers.Tests.Catalogue;
using LinqStream.Analyzers.Tests.Verifiers;

namespace LinqStream.Analyzers.Tests.Fixes;

/// <summary>What every fix must give: code that compiles (<c>Analyze</c> asserts no compiler error) and that no LSQ rule flags.</summary>
internal static class FixedCode
{
    public static async Task AssertCleanAsync(string statements)
    {
        var ids = await AnalyzerHygieneTests.Analyze(Source.Wrap(statements), "Fixed.cs");
        Assert.True(ids.IsEmpty, $"The fixed code is still flagged: {string.Join(", ", ids)}\n{statements}");
    }
}
