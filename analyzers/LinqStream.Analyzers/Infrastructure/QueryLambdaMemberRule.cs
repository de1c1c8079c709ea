using System;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace LinqStream.Analyzers.Infrastructure;

/// <summary>
/// The shape shared by the rules that flag a member used inside a query lambda (LSQ0002 processing time, LSQ0003 blocking
/// calls): classify each invocation, property reference and object creation, report the outermost classified expression
/// once, and only when it sits inside a LinqStream query lambda.
/// </summary>
internal static class QueryLambdaMemberRule
{
    /// <summary>
    /// Registers the rule; <paramref name="classifier"/> names what an operation is (the message's second argument) or
    /// returns null. The analyzer's Initialize enables concurrent execution and skips generated code itself.
    /// </summary>
    public static void Register(AnalysisContext context, DiagnosticDescriptor descriptor, Func<KnownSymbols, Func<IOperation, string?>> classifier)
    {
        context.RegisterCompilationStartAction(start =>
        {
            var known = KnownSymbols.TryCreate(start.Compilation);
            if (known is null)
            {
                return;
            }

            var classify = classifier(known);
            start.RegisterOperationAction(
                c => Analyze(c, known, classify, descriptor),
                OperationKind.Invocation,
                OperationKind.PropertyReference,
                OperationKind.ObjectCreation);
        });
    }

    private static void Analyze(OperationAnalysisContext context, KnownSymbols known, Func<IOperation, string?> classify, DiagnosticDescriptor descriptor)
    {
        var operation = context.Operation;
        var kind = classify(operation);
        if (kind is null)
        {
            return;
        }

        // 'Random.Shared.Next()' or 'client.GetStringAsync(url).Result': report the whole expression once, not its parts.
        if (QueryOperations.ParentUsingAsInstance(operation) is { } parent && classify(parent) is not null)
        {
            return;
        }

        if (QueryOperations.EnclosingQueryLambda(operation, known) is null)
        {
            return;
        }

        context.ReportDiagnostic(Diagnostic.Create(descriptor, operation.Syntax.GetLocation(), operation.Syntax.ToString(), kind));
    }
}
