using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using LinqStream.Analyzers.Tests.Verifiers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace LinqStream.Analyzers.Tests.Corpus;

/// <summary>
/// LSQ0007 and the engine give one verdict: for each group selector below, the analyzer reports "buffers the window" exactly
/// when the engine, in strict mode, refuses the query because its aggregate compiler found no incremental form.
/// </summary>
/// <remarks>
/// Each case is written once: the engine runs the lambda compiled into this test, and the analyzer reads its source text
/// (captured with <see cref="CallerArgumentExpressionAttribute"/>) inside the same query.
/// </remarks>
public sealed class BufferedWindowAgreementTests
{
    public sealed record Bid(long Auction, decimal Price, DateTime Time, string Bidder);

    private static readonly Dictionary<string, Expression<Func<IWindowGroup<long, Bid>, object?>>> s_cases = Build();

    public static TheoryData<string> Cases => [.. s_cases.Keys];

    private static Dictionary<string, Expression<Func<IWindowGroup<long, Bid>, object?>>> Build()
    {
        var cases = new Dictionary<string, Expression<Func<IWindowGroup<long, Bid>, object?>>>(StringComparer.Ordinal);
        void Add(Expression<Func<IWindowGroup<long, Bid>, object?>> selector, [CallerArgumentExpression(nameof(selector))] string text = "") => cases.Add(text, selector);

        // incremental
        Add(g => g.Count());
        Add(g => g.Sum(b => b.Price));
        Add(g => g.Sum(b => (decimal?)b.Price));
        Add(g => g.Where(b => b.Price > 10).Average(b => (double?)b.Price));
        Add(g => g.Select(b => b.Bidder).Distinct().Count(s => s != "x"));
        Add(g => g.OrderByDescending(b => b.Price).ThenBy(b => b.Bidder).Take(2));
        Add(g => g.OrderByDescending(b => b.Price).Select(b => b.Bidder).Take(2).ToList());
        Add(g => g.MaxBy(b => b.Price));
        Add(g => g.Aggregate(0m, (a, b) => a + b.Price));
        Add(g => g.Select(b => b.Price).Aggregate((a, p) => a > p ? a : p));
        Add(g => g.Aggregate(string.Empty, (s, b) => s + b.Bidder, s => s.Length));

        // buffered
        Add(g => g.ToList());
        Add(g => g.First());
        Add(g => g.Skip(1).Count());
        Add(g => g.Select(b => b.Price).OrderByDescending(p => p).Take(3).ToList());
        Add(g => g.Select(b => b.Price).MaxBy(p => p));
        Add(g => g.Aggregate(0m, (a, b) => a + b.Price + g.Count()));
        Add(g => g.Count(b => b.Price == g.Max(x => x.Price)));
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Lsq0007_IsReported_ExactlyWhenStrictModeRefusesTheBuffer(string selector)
    {
        bool analyzerSaysBuffered = await AnalyzerReportsBufferAsync(selector);

        var query = QStream.From(Array.Empty<Bid>(), b => b.Time).WithOptions(new QueryOptions { Strict = true })
            .TumblingWindow(TimeSpan.FromMinutes(1)).GroupBy(b => b.Auction).Select(s_cases[selector]);
        string? refusal = null;
        try
        {
            _ = query.Explain();
        }
        catch (QueryTranslationException ex)
        {
            refusal = ex.Message;
        }

        Assert.True(
            analyzerSaysBuffered == (refusal is not null),
            $"'{selector}': LSQ0007 {(analyzerSaysBuffered ? "reported" : "not reported")}, strict mode {(refusal is null ? "translated it" : "refused it: " + refusal)}");
    }

    [Fact]
    public void TheCases_CoverBothVerdicts()
    {
        // Guards the theory above against a list that only ever agrees one way.
        var verdicts = s_cases.Values.Select(selector =>
        {
            try
            {
                _ = QStream.From(Array.Empty<Bid>(), b => b.Time).WithOptions(new QueryOptions { Strict = true })
                    .TumblingWindow(TimeSpan.FromMinutes(1)).GroupBy(b => b.Auction).Select(selector).Explain();
                return true;
            }
            catch (QueryTranslationException)
            {
                return false;
            }
        }).ToList();

        Assert.Contains(true, verdicts);
        Assert.Contains(false, verdicts);
    }

    private static async Task<bool> AnalyzerReportsBufferAsync(string selector)
    {
        string code = Source.Usings + $$"""
            public sealed record Bid(long Auction, decimal Price, DateTime Time, string Bidder);
            public static class C
            {
                public static object Run(IQStream<Bid> bids) =>
                    bids.TumblingWindow(TimeSpan.FromMinutes(1)).GroupBy(b => b.Auction).Select({{selector}});
            }
            """;
        var compilation = CSharpCompilation.Create(
            "agreement",
            [CSharpSyntaxTree.ParseText(code, new CSharpParseOptions(LanguageVersion.CSharp13))],
            TestReferences.All,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        var diagnostics = await compilation.WithAnalyzers([new BufferedWindowAnalyzer()]).GetAnalyzerDiagnosticsAsync();
        return diagnostics.Any(d => d.Id == "LSQ0007");
    }
}
