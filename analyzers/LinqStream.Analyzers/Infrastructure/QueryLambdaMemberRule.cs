using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace LinqStream.Analyzers.Infrastructure;

/// <summary>
/// The shape shared by the rules that flag a member used inside a query lambda (LSQ0002 processing time, LSQ0003 blocking
/// calls): classify each invocation, property reference and object creation, report the outermost classified expression
/// once, and only when it sits inside a LinqStream query lambda. A method of the compilation that does such a thing taints its
/// callers: a query lambda that calls it (directly, as a method group, or through a <c>Func</c> held in a local) is reported too.
/// </summary>
internal static class QueryLambdaMemberRule
{
    private const int MaxHelperDepth = 4;

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

            var rule = new Rule(known, classifier(known), descriptor);
            start.RegisterOperationAction(
                rule.Analyze,
                OperationKind.Invocation,
                OperationKind.PropertyReference,
                OperationKind.ObjectCreation,
                OperationKind.MethodReference);
        });
    }

    private sealed class Rule(KnownSymbols known, Func<IOperation, string?> classify, DiagnosticDescriptor descriptor)
    {
        // What each helper of the compilation does ("" when nothing), computed once per compilation.
        private readonly ConcurrentDictionary<IMethodSymbol, string> _taints = new(SymbolEqualityComparer.Default);

        public void Analyze(OperationAnalysisContext context)
        {
            var operation = context.Operation;
            var kind = classify(operation);
            if (kind is null)
            {
                // Only calls inside a query lambda are followed into the code they run (the common case, a call elsewhere, stays cheap).
                kind = operation is IInvocationOperation or IMethodReferenceOperation && QueryOperations.EnclosingQueryLambda(operation, known) is not null
                    ? Helper(operation)
                    : null;
                if (kind is null)
                {
                    return;
                }
            }
            else if (QueryOperations.ParentUsingAsInstance(operation) is { } parent && classify(parent) is not null)
            {
                // 'Random.Shared.Next()' or 'client.GetStringAsync(url).Result': report the whole expression once, not its parts.
                return;
            }

            if (QueryOperations.EnclosingQueryLambda(operation, known) is null)
            {
                return;
            }

            context.ReportDiagnostic(Diagnostic.Create(descriptor, operation.Syntax.GetLocation(), operation.Syntax.ToString(), kind));
        }

        /// <summary>Says what a call of a helper, a method group or a call of a <c>Func</c> local does through the code it runs, or null.</summary>
        private string? Helper(IOperation operation)
        {
            switch (operation)
            {
                case IInvocationOperation { TargetMethod: { MethodKind: MethodKind.DelegateInvoke }, Instance: { } target }:
                    foreach (var value in known.Flow.Values(target))
                    {
                        if (Target(value.Operation) is { } body && Taint(body, new HashSet<IMethodSymbol>(SymbolEqualityComparer.Default), 0) is { } viaDelegate)
                        {
                            return viaDelegate + " (in the delegate '" + target.Syntax + "')";
                        }
                    }

                    return null;
                case IInvocationOperation invocation:
                    return Of(invocation.TargetMethod);
                case IMethodReferenceOperation reference:
                    return Of(reference.Method);
                default:
                    return null;
            }
        }

        private string? Of(IMethodSymbol method)
        {
            if (!ValueFlow.IsOwnMethod(method))
            {
                return null;
            }

            string taint = _taints.GetOrAdd(method.OriginalDefinition, m => Taint((IMethodSymbol)m, new HashSet<IMethodSymbol>(SymbolEqualityComparer.Default), 0) ?? string.Empty);
            return taint.Length == 0 ? null : taint + " (in '" + method.Name + "')";
        }

        /// <summary>Gets the body a delegate value runs: a lambda's, or the method of a method group.</summary>
        private IOperation? Target(IOperation value) => value switch
        {
            IAnonymousFunctionOperation lambda => lambda.Body,
            IDelegateCreationOperation creation => Target(ValueFlow.StripAll(creation.Target)),
            IMethodReferenceOperation reference when ValueFlow.IsOwnMethod(reference.Method) => known.Flow.Body(reference.Method),
            _ => null,
        };

        private string? Taint(IMethodSymbol method, HashSet<IMethodSymbol> visiting, int depth) =>
            depth < MaxHelperDepth && visiting.Add(method.OriginalDefinition) && known.Flow.Body(method) is { } body ? Taint(body, visiting, depth) : null;

        private string? Taint(IOperation body, HashSet<IMethodSymbol> visiting, int depth)
        {
            foreach (var operation in body.Descendants())
            {
                if (classify(operation) is { } kind)
                {
                    return kind;
                }

                var callee = operation switch
                {
                    IInvocationOperation invocation => invocation.TargetMethod,
                    IMethodReferenceOperation reference => reference.Method,
                    _ => null,
                };
                if (callee is not null && ValueFlow.IsOwnMethod(callee) && Taint(callee, visiting, depth + 1) is { } inner)
                {
                    return inner;
                }
            }

            return null;
        }
    }
}
