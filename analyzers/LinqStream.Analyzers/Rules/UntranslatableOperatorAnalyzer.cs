using System;
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
/// <remarks>The aggregate family is LSQ0001's. Only <c>Qbservable</c> operators on an <c>IQStream&lt;T&gt;</c> are reported.</remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class UntranslatableOperatorAnalyzer : DiagnosticAnalyzer
{
    private const string UnknownReason = "it has no streaming translation";
    private const string UnknownFix = "Write it with LinqStream operators (Where, Select, windows, lifetimes and joins), or apply it to the results after Subscribe";

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
            }
        });
    }

    private static void Analyze(OperationAnalysisContext context, KnownSymbols known)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        if (!known.IsQbservableMethod(method))
        {
            return;
        }

        var entry = TranslationCatalogue.FindRejected(method.Name);
        if (entry?.Family == "aggregate" || (entry is null && Array.IndexOf(TranslationCatalogue.Translated, method.Name) >= 0))
        {
            return; // LSQ0001's, or translated
        }

        var receiver = QueryOperations.Receiver(invocation);
        if (receiver is null || !QueryOperations.IsStreamQuery(receiver, known))
        {
            return;
        }

        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.UntranslatableOperator,
            QueryOperations.OperatorLocation(invocation),
            method.Name,
            entry?.Reason ?? UnknownReason,
            entry?.Fix ?? UnknownFix));
    }
}
