using System.Collections.Immutable;
using LinqStream.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace LinqStream.Analyzers;

/// <summary>LSQ0001: an Rx aggregate, sort or collector (the catalogue's "aggregate" family) applied to a LinqStream query.</summary>
/// <remarks>
/// Reported: Rx <c>Qbservable</c> operators on a LinqStream query (by meaning: through <c>IQbservable</c>/<c>IObservable</c>-typed locals and
/// helpers), the blocking <c>First</c>/<c>Last</c>/<c>Single</c> on one, and a call of a helper that applies such an operator to the query it
/// is given. Exactly the calls the translator or <c>Subscribe</c> rejects, so LINQ to objects and plain Rx code are never flagged.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class UnwindowedAggregateAnalyzer : DiagnosticAnalyzer
{
    /// <summary>The diagnostic property naming the fix the code-fix provider can apply.</summary>
    internal const string FixProperty = "Fix";

    /// <summary>Fix: wrap the receiver (the additional location) in <c>.TumblingWindow(...)</c> so a following GroupBy binds to LinqStream's.</summary>
    internal const string InsertWindowFix = "InsertWindow";

    /// <summary>Fix: rewrite <c>s.Op(args)</c> to <c>s.TumblingWindow(...).Select(w =&gt; w.Op(args))</c> (or without the window when already windowed).</summary>
    internal const string AggregateInWindowFix = "AggregateInWindow";

    /// <summary>The diagnostic property with the LINQ-to-objects name of the aggregate, for <see cref="AggregateInWindowFix"/>.</summary>
    internal const string EnumerableNameProperty = "EnumerableName";

    /// <summary>The diagnostic property telling whether the receiver is already windowed ("true"/"false").</summary>
    internal const string WindowedProperty = "Windowed";

    // The catalogue's aggregates whose LINQ-to-objects form inside a window folds incrementally (LSQ0007 stays quiet) and means the
    // same per window. Last, ToList, Distinct, First... have no such form: no fix is offered for them rather than a buffering one.
    private static readonly ImmutableHashSet<string> s_enumerableForms = ImmutableHashSet.Create(
        "Count", "LongCount", "Sum", "Min", "Max", "Average", "Any", "All");

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(DiagnosticDescriptors.UnwindowedAggregate);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            var known = KnownSymbols.TryCreate(start.Compilation);
            if (known?.Qbservable is not null)
            {
                start.RegisterOperationAction(c => Analyze(c, known), OperationKind.Invocation);
            }
        });
    }

    private static void Analyze(OperationAnalysisContext context, KnownSymbols known)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        var entry = RejectedOperators.Find(invocation, known);
        if (entry is null)
        {
            // A helper of this compilation that aggregates the query it is given: reported where the query is passed to it.
            foreach (var (name, found) in RejectedOperators.InHelper(invocation, known))
            {
                if (found.Family == "aggregate")
                {
                    context.ReportDiagnostic(Diagnostic.Create(
                        DiagnosticDescriptors.UnwindowedAggregate, QueryOperations.OperatorLocation(invocation), name + "' in '" + method.Name, found.Reason, found.Fix));
                    return;
                }
            }

            return;
        }

        if (entry.Family != "aggregate")
        {
            return;
        }

        var receiver = QueryOperations.Receiver(invocation)!;
        bool windowed = known.IsWindowedStream(receiver.Type);
        var properties = ImmutableDictionary.CreateBuilder<string, string?>();
        properties[WindowedProperty] = windowed ? "true" : "false";
        var additional = ImmutableArray<Location>.Empty;

        // A fix is offered only on an Rx operator over an expression typed IQStream<T> (after an Rx operator, or on a local typed
        // IQbservable<T>, no LinqStream window applies to it), and only where the windowed form keeps meaning and stays incremental.
        if (known.IsQbservableMethod(method) && known.IsStream(receiver.Type))
        {
            if (method.Name == "GroupBy" && !windowed && invocation.Arguments.Length == 2 && InsertionPoint(receiver, known) is { } insertion)
            {
                properties[FixProperty] = InsertWindowFix;
                additional = ImmutableArray.Create(insertion.GetLocation());
            }
            else if (invocation.Syntax is InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax } && EnumerableName(method.Name) is { } name)
            {
                properties[FixProperty] = AggregateInWindowFix;
                properties[EnumerableNameProperty] = name;
            }
        }

        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.UnwindowedAggregate,
            QueryOperations.OperatorLocation(invocation),
            additional,
            properties.ToImmutable(),
            method.Name,
            entry.Reason,
            entry.Fix));
    }

    /// <summary>Maps an Rx aggregate to its LINQ-to-objects name (<c>LastAsync</c> → <c>Last</c>), or null when there is none.</summary>
    internal static string? EnumerableName(string rxName)
    {
        var name = rxName.EndsWith("Async", System.StringComparison.Ordinal) ? rxName.Substring(0, rxName.Length - "Async".Length) : rxName;
        return s_enumerableForms.Contains(name) ? name : null;
    }

    /// <summary>
    /// Finds the expression to put a window after so that the stream reaching GroupBy is windowed: the receiver itself, or, through
    /// filters (which keep a windowed stream windowed), the source of a query expression's <c>from</c> clause.
    /// </summary>
    private static ExpressionSyntax? InsertionPoint(IOperation receiver, KnownSymbols known)
    {
        for (int depth = 0; depth < 16; depth++)
        {
            if (receiver.Syntax is ExpressionSyntax expression and not QueryExpressionSyntax && !receiver.IsImplicit)
            {
                return expression;
            }

            if (receiver is not IInvocationOperation { TargetMethod.Name: "Where" } where || !QueryOperations.IsQueryOperator(where, known)
                || QueryOperations.Receiver(where) is not { } next)
            {
                return null;
            }

            receiver = next;
        }

        return null;
    }
}
