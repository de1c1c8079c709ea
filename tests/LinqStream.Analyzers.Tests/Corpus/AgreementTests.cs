using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using LinqStream.Analyzers.Tests.Verifiers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace LinqStream.Analyzers.Tests.Corpus;

/// <summary>
/// One verdict for the IDE and the engine: every corpus case is compiled, analysed by every LSQ rule, and run, so that its query goes
/// through the real translator (<c>Explain</c> for the query it returns; the case's own calls for <c>Wait</c>, <c>await</c>, ...).
/// A case fails when the analyzers report other rules than it expects, when the translator refuses a query that has no analyzer error
/// naming the refused operator, when an analyzer error's query translates, or when anything else is thrown.
/// </summary>
public sealed class AgreementTests
{
    private static readonly TimeSpan s_caseTimeout = TimeSpan.FromSeconds(20);

    private static readonly Lazy<CorpusRun> s_run = new(CorpusRun.Compile);

    public static TheoryData<string> Names => [.. AnalyzerCorpus.Cases.Select(c => c.Name)];

    [Fact]
    public void Corpus_HasAtLeastEightyCases_WithFlagAndOkTwinsInEveryTheme()
    {
        Assert.True(AnalyzerCorpus.Cases.Count >= 80, $"{AnalyzerCorpus.Cases.Count} cases");
        Assert.Equal(AnalyzerCorpus.Cases.Count, AnalyzerCorpus.Cases.Select(c => c.Name).Distinct().Count());
        foreach (var theme in AnalyzerCorpus.Cases.GroupBy(c => c.Theme))
        {
            Assert.Contains(theme, c => c.ExpectedIds.Count > 0);
            Assert.Contains(theme, c => c.ExpectedIds.Count == 0);
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public async Task Case_AnalyzersAndTranslatorAgree(string name)
    {
        var @case = AnalyzerCorpus.Cases.Single(c => c.Name == name);
        var run = s_run.Value;
        var diagnostics = run.DiagnosticsOf(@case);
        var outcome = await run.ExecuteAsync(@case, s_caseTimeout);

        var ids = diagnostics.Select(d => d.Id).Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.True(@case.ExpectedIds.SequenceEqual(ids), $"'{name}' expected [{string.Join(", ", @case.ExpectedIds)}] but the analyzers reported:\n{Describe(diagnostics)}");

        var errors = diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        switch (outcome)
        {
            case Refused refused:
                Assert.True(errors.Count > 0, $"'{name}': the engine refuses it ({refused.Message}) but no analyzer error is reported:\n{Describe(diagnostics)}");
                Assert.True(
                    refused.Operator is null || errors.Any(e => Mentions(e, refused.Operator)),
                    $"'{name}': the engine refuses '{refused.Operator}' ({refused.Message}) but no analyzer error is reported on it:\n{Describe(diagnostics)}");
                break;
            case Translated:
                Assert.True(errors.Count == 0, $"'{name}': the analyzers report an error but the engine runs the query:\n{Describe(diagnostics)}");
                break;
            case Crashed crashed:
                Assert.Fail($"'{name}' threw {crashed.Exception}");
                break;
        }
    }

    /// <summary>The diagnostic is about the refused operator: its span or its message names it.</summary>
    private static bool Mentions(Diagnostic diagnostic, string op)
    {
        var text = diagnostic.Location.SourceTree?.GetText().ToString(diagnostic.Location.SourceSpan) ?? string.Empty;
        return text.Contains(op, StringComparison.Ordinal) || diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture).Contains("'" + op, StringComparison.Ordinal)
            || (op == "GetAwaiter" && text.StartsWith("await", StringComparison.Ordinal));
    }

    private static string Describe(IEnumerable<Diagnostic> diagnostics) =>
        string.Join("\n", diagnostics.Select(d => $"  {d.Id} {d.Severity} at '{d.Location.SourceTree?.GetText().ToString(d.Location.SourceSpan)}': {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}")) is { Length: > 0 } s ? s : "  (none)";

    private abstract record Outcome;

    private sealed record Translated : Outcome;

    private sealed record Refused(string? Operator, string Message) : Outcome;

    private sealed record Crashed(Exception Exception) : Outcome;

    /// <summary>The whole corpus compiled once (one compilation, one analyzer pass, one assembly), each case a class of its own.</summary>
    private sealed class CorpusRun(Assembly assembly, ImmutableArray<Diagnostic> diagnostics, SyntaxTree tree)
    {
        public static CorpusRun Compile()
        {
            var source = new StringBuilder(Header);
            foreach (var @case in AnalyzerCorpus.Cases)
            {
                source.Append(ClassOf(@case));
            }

            var tree = CSharpSyntaxTree.ParseText(source.ToString(), new CSharpParseOptions(LanguageVersion.CSharp13), "Corpus.cs");
            var compilation = CSharpCompilation.Create(
                "LinqStreamCorpus",
                [tree],
                TestReferences.All,
                new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
            var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            Assert.True(errors.Count == 0, "The corpus does not compile:\n" + string.Join("\n", errors.Take(20)));

            var analyzers = typeof(DiagnosticDescriptors).Assembly.GetTypes()
                .Where(t => t.GetCustomAttribute<DiagnosticAnalyzerAttribute>() is not null)
                .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!)
                .ToImmutableArray();
            var diagnostics = compilation.WithAnalyzers(analyzers).GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();

            using var image = new MemoryStream();
            var emitted = compilation.Emit(image);
            Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
            image.Position = 0;
            var assembly = new AssemblyLoadContext("LinqStreamCorpus", isCollectible: true).LoadFromStream(image);
            return new CorpusRun(assembly, diagnostics, tree);
        }

        public ImmutableArray<Diagnostic> DiagnosticsOf(CorpusCase @case)
        {
            var root = tree.GetRoot();
            var type = root.DescendantNodes().OfType<ClassDeclarationSyntax>().Single(c => c.Identifier.ValueText == @case.ClassName);
            return [.. diagnostics.Where(d => type.Span.Contains(d.Location.SourceSpan)).OrderBy(d => d.Location.SourceSpan.Start)];
        }

        public async Task<Outcome> ExecuteAsync(CorpusCase @case, TimeSpan timeout)
        {
            var type = assembly.GetType(@case.ClassName, throwOnError: true)!;
            try
            {
                var task = (Task<object?>)type.GetMethod("Run")!.Invoke(null, null)!;
                var result = await task.WaitAsync(timeout);
                return result is System.Reactive.Linq.IQbservable query && query.Provider.GetType().Assembly == typeof(QStream).Assembly ? Translate(query) : new Translated();
            }
            catch (Exception e) when (Unwrap(e) is QueryTranslationException refused)
            {
                return new Refused(refused.Operator, refused.Message);
            }
            catch (Exception e) when (Unwrap(e) is ArgumentOutOfRangeException argument)
            {
                return new Refused(null, argument.Message); // a window argument the operator rejects when the query is built (LSQ0004)
            }
            catch (Exception e)
            {
                return new Crashed(Unwrap(e));
            }
            finally
            {
                // Ends the live source, so a ToListAsync left pending by a case completes.
                var live = type.GetField("Live")!.GetValue(null)!;
                live.GetType().GetMethod("OnCompleted")!.Invoke(live, null);
            }
        }

        /// <summary>Translates the query the case built: <c>Explain</c> runs the translator and the physical planner, and nothing else.</summary>
        private static Outcome Translate(System.Reactive.Linq.IQbservable query)
        {
            var explain = typeof(QStream).GetMethod(nameof(QStream.Explain))!.MakeGenericMethod(query.ElementType);
            explain.Invoke(null, [query]);
            return new Translated();
        }

        private static Exception Unwrap(Exception e)
        {
            while (e is TargetInvocationException or AggregateException && e.InnerException is not null)
            {
                e = e.InnerException;
            }

            return e;
        }

        private static string ClassOf(CorpusCase @case) => $$"""

            public static class {{@case.ClassName}}
            {
                public static readonly Subject<Bid> Live = new();

                public static async Task<object?> Run()
                {
                    var t0 = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);
                    var bidList = new List<Bid> { new(1, 10m, t0.AddSeconds(1), "ann"), new(2, 20m, t0.AddSeconds(2), "bob"), new(1, 30m, t0.AddSeconds(3), "cy") };
                    var auctionList = new List<Auction> { new(1, t0, t0.AddMinutes(10), "sam"), new(2, t0.AddSeconds(1), t0.AddMinutes(5), "sue") };
                    var bids = QStream.From(bidList, b => b.Time);
                    var auctions = QStream.From(auctionList, a => a.Time);
                    var live = QStream.From(Live, b => b.Time);
                    IObservable<Bid> rx = Live;
                    await Task.CompletedTask;
            {{Indent(@case.Body, 8)}}
                }
            {{Indent(@case.Members, 4)}}
            }

            """;

        private static string Indent(string text, int spaces) =>
            string.Join("\n", text.Split('\n').Select(l => l.Length == 0 ? l : new string(' ', spaces) + l));

        private const string Header = """
            using System;
            using System.Collections.Generic;
            using System.IO;
            using System.Linq;
            using System.Reactive.Linq;
            using System.Reactive.Subjects;
            using System.Reactive.Threading.Tasks;
            using System.Threading;
            using System.Threading.Tasks;
            using LinqStream;

            public sealed record Bid(long Auction, decimal Price, DateTime Time, string Bidder);
            public sealed record Auction(long Id, DateTime Time, DateTime Expires, string Seller);

            """;
    }
}
