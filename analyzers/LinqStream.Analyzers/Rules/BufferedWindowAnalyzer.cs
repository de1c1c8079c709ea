using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using LinqStream.Analyzers.Infrastructure;
using LinqStream.Query.Translation;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace LinqStream.Analyzers;

/// <summary>LSQ0007: a use of a window's events (in a window's <c>Select</c> or a group filter) that has no incremental form, so the window is buffered.</summary>
/// <remarks>
/// Mirrors the runtime's aggregate compiler: the window (or group) may be read through <c>Key</c> and <c>Window</c>, and folded by the
/// catalogue's incremental aggregates after a chain of <c>Where</c>/<c>Select</c>; any other use keeps every event of the window.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class BufferedWindowAnalyzer : DiagnosticAnalyzer
{
    private static readonly ImmutableHashSet<string> s_incremental = ImmutableHashSet.Create(StringComparer.Ordinal, TranslationCatalogue.IncrementalAggregates);

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(DiagnosticDescriptors.BufferedWindow);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            var known = KnownSymbols.TryCreate(start.Compilation);
            if (known?.Window is not null && known.Enumerable is not null)
            {
                start.RegisterOperationAction(c => Analyze(c, known), OperationKind.Invocation);
            }
        });
    }

    private static void Analyze(OperationAnalysisContext context, KnownSymbols known)
    {
        var invocation = (IInvocationOperation)context.Operation;
        if (invocation.TargetMethod.Name is not ("Select" or "Where") || !QueryOperations.IsQueryOperator(invocation, known))
        {
            return;
        }

        var lambda = QueryOperations.Lambda(QueryOperations.Argument(invocation, 1));
        if (lambda is null || lambda.Symbol.Parameters.Length != 1 || !known.IsWindow(lambda.Symbol.Parameters[0].Type))
        {
            return;
        }

        var window = lambda.Symbol.Parameters[0];

        var reported = new HashSet<IOperation>();
        foreach (var operation in lambda.Body.Descendants())
        {
            if (operation is IParameterReferenceOperation reference && SymbolEqualityComparer.Default.Equals(reference.Parameter, window)
                && BufferedUse(reference, window, known) is { } use && reported.Add(use))
            {
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.BufferedWindow, use.Syntax.GetLocation(), use.Syntax.ToString()));
            }
        }
    }

    /// <summary>Returns the expression that uses the window as a whole (the outermost call chain on it), or null when the use is incremental.</summary>
    private static IOperation? BufferedUse(IParameterReferenceOperation reference, IParameterSymbol window, KnownSymbols known)
    {
        if (QueryOperations.ParentUsingAsInstance(reference) is IPropertyReferenceOperation { Property.Name: "Key" or "Window" })
        {
            return null;
        }

        // Walk the chain g.Where(p).Select(f)... up to the aggregate that folds it.
        IOperation current = reference;
        bool selected = false;
        while (ChainCall(current, known) is { } call)
        {
            string name = call.TargetMethod.Name;
            if (!s_incremental.Contains(name))
            {
                return Outermost(call, known);
            }

            if (name is "Where" or "Select")
            {
                if (call.Arguments.Length != 2 || QueryOperations.Lambda(QueryOperations.Argument(call, 1)) is not { } step
                    || step.Symbol.Parameters.Length != 1 || References(step, window))
                {
                    return Outermost(call, known);
                }

                selected |= name == "Select";
                current = call;
                continue;
            }

            return IsIncrementalAggregate(call, selected, window, known) ? null : Outermost(call, known);
        }

        return current;
    }

    /// <summary>
    /// Checks the shapes the runtime folds: Count/LongCount/Any/All/Min/Max, Sum/Average (nullable too), Distinct().Count([p]),
    /// OrderBy(f)[.ThenBy(h)... up to four keys][.Select(p)].Take(k), MaxBy/MinBy, Aggregate(IAggregate), and Enumerable's
    /// Aggregate([seed,] lambda[, lambda]) whose arguments do not read the window.
    /// </summary>
    private static bool IsIncrementalAggregate(IInvocationOperation call, bool selected, IParameterSymbol window, KnownSymbols known)
    {
        // An aggregate whose own arguments read the window (g.Count(e => e.P == g.Max(x => x.P))) has no one-pass form.
        for (int a = 1; a < call.Arguments.Length; a++)
        {
            if (QueryOperations.Argument(call, a) is { } argument && References(argument, window))
            {
                return false;
            }
        }

        var next = ChainCall(call, known);
        switch (call.TargetMethod.Name)
        {
            case "Count" or "LongCount" or "Any" or "All" or "Min" or "Max" or "Sum" or "Average":
                return true;
            case "Distinct":
                return call.Arguments.Length == 1 && next is { TargetMethod.Name: "Count" or "LongCount" };
            case "OrderBy" or "OrderByDescending":
                return !selected && IsTopK(call, window, known);
            case "MaxBy" or "MinBy":
                return !selected && call.Arguments.Length == 2;
            case "Aggregate" when SymbolEqualityComparer.Default.Equals(call.TargetMethod.ContainingType, known.AggregateExtensions):
                return QueryOperations.Argument(call, 1) is { } aggregate && !References(aggregate, window);
            case "Aggregate":
                {
                    // Aggregate(func), Aggregate(seed, func), Aggregate(seed, func, resultSelector): the functions written as lambdas.
                    int count = call.Arguments.Length;
                    for (int a = 1; a < count; a++)
                    {
                        var argument = QueryOperations.Argument(call, a);
                        bool isFunction = count == 2 || a >= 2;
                        if (argument is null || References(argument, window) || (isFunction && QueryOperations.Lambda(argument) is null))
                        {
                            return false;
                        }
                    }

                    return count >= 2;
                }

            default:
                return false;
        }
    }

    /// <summary><c>OrderBy(f)[.ThenBy[Descending](h)...][.Select(p)].Take(k)</c>, at most four keys, none of them reading the window.</summary>
    private static bool IsTopK(IInvocationOperation orderBy, IParameterSymbol window, KnownSymbols known)
    {
        int keys = 0;
        IInvocationOperation? call = orderBy;
        while (call is { TargetMethod.Name: "OrderBy" or "OrderByDescending" or "ThenBy" or "ThenByDescending" })
        {
            if (call.Arguments.Length != 2 || QueryOperations.Argument(call, 1) is not { } key || References(key, window) || ++keys > 4)
            {
                return false;
            }

            call = ChainCall(call, known);
        }

        if (call is { TargetMethod.Name: "Select", Arguments.Length: 2 } select && QueryOperations.Lambda(QueryOperations.Argument(select, 1)) is { } projection
            && projection.Symbol.Parameters.Length == 1 && !References(projection, window))
        {
            call = ChainCall(select, known);
        }

        return call is { TargetMethod.Name: "Take", Arguments.Length: 2 } take && QueryOperations.Argument(take, 1) is { } k && !References(k, window);
    }

    /// <summary>Gets the LINQ-to-objects (or <c>AggregateExtensions</c>) call that takes <paramref name="source"/> as its <c>this</c> argument, or null.</summary>
    private static IInvocationOperation? ChainCall(IOperation source, KnownSymbols known)
    {
        var parent = source.Parent;
        while (parent is IConversionOperation { IsImplicit: true })
        {
            parent = parent.Parent;
        }

        return parent is IArgumentOperation { Parameter.Ordinal: 0, Parent: IInvocationOperation call }
            && call.TargetMethod.IsExtensionMethod
            && (SymbolEqualityComparer.Default.Equals(call.TargetMethod.ContainingType, known.Enumerable)
                || SymbolEqualityComparer.Default.Equals(call.TargetMethod.ContainingType, known.AggregateExtensions))
            ? call
            : null;
    }

    /// <summary>Gets the outermost call of the LINQ chain that <paramref name="call"/> is part of, which is what the user reads as one expression.</summary>
    private static IOperation Outermost(IInvocationOperation call, KnownSymbols known)
    {
        IOperation outer = call;
        while (ChainCall(outer, known) is { } next)
        {
            outer = next;
        }

        return outer;
    }

    private static bool References(IOperation operation, IParameterSymbol window)
    {
        foreach (var descendant in operation.DescendantsAndSelf())
        {
            if (descendant is IParameterReferenceOperation reference && SymbolEqualityComparer.Default.Equals(reference.Parameter, window))
            {
                return true;
            }
        }

        return false;
    }
}
