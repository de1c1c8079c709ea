using System.Collections.Immutable;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace LinqStream.Benchmarks.Analyzers;

/// <summary>
/// What LinqStream's analyzers (ten since issue 21) add to compiling one file of queries: the compiler alone (baseline) vs the compiler plus
/// every LSQ rule, on a generated 40-method file with about 280 query calls (clean, no diagnostics).
/// </summary>
/// <remarks>Each invocation builds a fresh compilation over the same syntax tree, so nothing bound is cached between runs.</remarks>
[MemoryDiagnoser]
public class AnalyzerCostBenchmarks
{
    private SyntaxTree _tree = null!;
    private MetadataReference[] _references = [];
    private ImmutableArray<DiagnosticAnalyzer> _analyzers;

    [GlobalSetup]
    public void Setup()
    {
        _tree = CSharpSyntaxTree.ParseText(SampleFile(40), new CSharpParseOptions(LanguageVersion.CSharp13));
        var platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        _references = platform.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .Append(MetadataReference.CreateFromFile(typeof(QStream).Assembly.Location))
            .Append(MetadataReference.CreateFromFile(typeof(System.Reactive.Linq.Qbservable).Assembly.Location))
            .ToArray();
        _analyzers = [.. typeof(LinqStream.Analyzers.UnwindowedAggregateAnalyzer).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(DiagnosticAnalyzer).IsAssignableFrom(t))
            .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!)];
        var errors = Compile().GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (errors.Count > 0 || _analyzers.Length != 10)
        {
            throw new InvalidOperationException($"The sample does not compile cleanly ({errors.Count} errors, first: {errors.FirstOrDefault()}) or analyzers are missing ({_analyzers.Length}).");
        }
    }

    [Benchmark(Baseline = true)]
    public int CompilerOnly() => Compile().GetDiagnostics().Length;

    /// <summary>The analyzer driver with one analyzer that does nothing: what any analyzer costs before a rule runs.</summary>
    [Benchmark]
    public int CompilerWithEmptyAnalyzer() =>
        Compile().WithAnalyzers([new EmptyAnalyzer()]).GetAllDiagnosticsAsync().GetAwaiter().GetResult().Length;

    [Benchmark]
    public int CompilerWithLinqStreamAnalyzers() =>
        Compile().WithAnalyzers(_analyzers).GetAllDiagnosticsAsync().GetAwaiter().GetResult().Length;

    private CSharpCompilation Compile() => CSharpCompilation.Create(
        "Sample", [_tree], _references, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    /// <summary>A realistic file of LinqStream queries: filters, windows, group-bys, joins and lifetimes, no violations.</summary>
    private static string SampleFile(int methods)
    {
        var text = new StringBuilder("""
            using System;
            using System.Collections.Generic;
            using System.Linq;
            using LinqStream;

            public sealed record Bid(long Auction, long Bidder, long Price, DateTime DateTime);
            public sealed record Auction(long Id, long Seller, long Category, DateTime DateTime, DateTime Expires);

            public static class Queries
            {
            """);
        for (int i = 0; i < methods; i++)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $$"""
                    public static IDisposable Query{{i}}(IEnumerable<Bid> bids, IEnumerable<Auction> auctions, Action<object> sink)
                    {
                        var b = QStream.From(bids, x => x.DateTime);
                        var a = QStream.From(auctions, x => x.DateTime).WithLifetime(x => x.DateTime, x => x.Expires);
                        var hot =
                            from x in b.Where(x => x.Price > {{i}}).HoppingWindow(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2))
                            group x by x.Auction into g
                            select new { g.Key, N = g.Count(), Max = g.Max(y => y.Price), g.Window.End };
                        var joined =
                            from y in a
                            join x in b on y.Id equals x.Auction
                            where x.Price >= y.Category
                            select new { y.Id, x.Price };
                        return hot.Select(r => (object)r).Union(joined.Select(r => (object)r)).Subscribe(sink);
                    }

                """);
        }

        return text.Append('}').ToString();
    }

#pragma warning disable RS1036, RS1001, RS2008 // a benchmark-only analyzer, never shipped: no release tracking or attribute needed
    private sealed class EmptyAnalyzer : DiagnosticAnalyzer
    {
        private static readonly DiagnosticDescriptor s_none = new("BENCH0001", "None", "None", "Benchmark", DiagnosticSeverity.Hidden, isEnabledByDefault: true);

        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [s_none];

        public override void Initialize(AnalysisContext context)
        {
            context.EnableConcurrentExecution();
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.RegisterOperationAction(static _ => { }, OperationKind.Invocation);
        }
    }
#pragma warning restore RS1036, RS1001, RS2008
}
