using System.Collections.Immutable;
using LinqStream.Analyzers.Infrastructure;
using LinqStream.Query.Translation;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace LinqStream.Analyzers;

/// <summary>
/// LSQ0008: an Rx operator from the catalogue's processing-time, count-based or control families (Throttle, Take, Zip, Publish...),
/// or an Rx operator the translator does not know, applied to a LinqStream query.
/// </summary>
/// <remarks>
/// The aggregate family is LSQ0001's. Reported: <c>Qbservable</c> operators on a LinqStream query by meaning (also through
/// <c>IQbservable</c>/<c>IObservable</c>-typed locals and the compilation's helpers), Rx's terminal operators on one (<c>Wait</c>,
/// <c>await</c>, <c>ToTask</c>, <c>ForEachAsync</c>, <c>ToEnumerable</c>...), and a call of a helper that applies one to the query it is given.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class UntranslatableOperatorAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(DiagnosticDescriptors.UntranslatableOperator);

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
                start.RegisterOperationAction(c => AnalyzeAwait(c, known), OperationKind.Await);
            }
        });
    }

    private static void Analyze(OperationAnalysisContext context, KnownSymbols known)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var entry = RejectedOperators.Find(invocation, known);
        if (entry is null)
        {
            // A helper of this compilation that applies such an operator to the query it is given: reported where the query is passed.
            foreach (var (name, found) in RejectedOperators.InHelper(invocation, known))
            {
                if (found.Family != "aggregate")
                {
                    Report(context, QueryOperations.OperatorLocation(invocation), name + "' in '" + invocation.TargetMethod.Name, found);
                    return;
                }
            }

            return;
        }

        if (entry.Family != "aggregate")
        {
            Report(context, QueryOperations.OperatorLocation(invocation), invocation.TargetMethod.Name, entry);
        }
    }

    /// <summary><c>await query</c> subscribes an <c>AsyncSubject</c> through <c>Observable.GetAwaiter</c>, which never appears as a call.</summary>
    private static void AnalyzeAwait(OperationAnalysisContext context, KnownSymbols known)
    {
        var await = (IAwaitOperation)context.Operation;
        if (QueryOperations.IsStreamQuery(await.Operation, known) && TranslationCatalogue.FindRejected("GetAwaiter") is { } entry)
        {
            Report(context, await.Syntax.GetLocation(), "await", entry);
        }
    }

    private static void Report(OperationAnalysisContext context, Location location, string name, CatalogueEntry entry) =>
        context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.UntranslatableOperator, location, name, entry.Reason, entry.Fix));
}
