using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using LinqStream.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace LinqStream.Analyzers;

/// <summary>
/// LSQ0005: an input of a temporal join whose events never end (<c>WithLifetime(..., e =&gt; DateTimeOffset.MaxValue)</c>,
/// <c>ExtendLifetime(TimeSpan.MaxValue)</c>), so the join keeps them forever.
/// </summary>
/// <remarks>
/// Each join input is traced back through stateless operators (and <c>Over</c>, which keeps each event's lifetime), locals, branches and helpers that return a query; windows,
/// <c>ToPointEvents</c> and <c>ClipLifetime</c> bound the lifetime again and stop the search. The end itself is followed through
/// locals, static readonly fields, branches and helpers (extension methods) of the compilation.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class UnboundedJoinStateAnalyzer : DiagnosticAnalyzer
{
    private const int MaxDepth = 32;

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(DiagnosticDescriptors.UnboundedJoinState);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            var known = KnownSymbols.TryCreate(start.Compilation);
            if (known is null)
            {
                return;
            }

            // One lifetime feeding two joins is one problem: report it once.
            var reported = new ConcurrentDictionary<Location, bool>();
            start.RegisterOperationAction(c => Analyze(c, known, reported), OperationKind.Invocation);
        });
    }

    private static void Analyze(OperationAnalysisContext context, KnownSymbols known, ConcurrentDictionary<Location, bool> reported)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        if (method.Name is not ("Join" or "LeftJoin" or "WhereNotExists") || !SymbolEqualityComparer.Default.Equals(method.ContainingType, known.QStream))
        {
            return;
        }

        var visited = new HashSet<IOperation>();
        foreach (var ordinal in new[] { 0, 1 })
        {
            if (QueryOperations.Argument(invocation, ordinal) is { } input
                && FindEndlessLifetime(input.Value, known, visited, 0) is { } endless
                && reported.TryAdd(endless.GetLocation(), true))
            {
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.UnboundedJoinState, endless.GetLocation(), endless.ToString()));
            }
        }
    }

    /// <summary>Walks up the query that produces <paramref name="stream"/>; returns the syntax of a lifetime end that never comes, or null.</summary>
    private static SyntaxNode? FindEndlessLifetime(IOperation stream, KnownSymbols known, HashSet<IOperation> visited, int depth)
    {
        if (depth > MaxDepth)
        {
            return null;
        }

        // Through locals, branches and helpers of the compilation that return a query.
        foreach (var value in known.Flow.Values(stream))
        {
            if (visited.Add(value.Operation) && value.Operation is IInvocationOperation call && QueryOperations.IsQueryOperator(call, known)
                && FindEndlessLifetime(call, known, visited, depth) is { } found)
            {
                return found;
            }
        }

        return null;
    }

    private static SyntaxNode? FindEndlessLifetime(IInvocationOperation call, KnownSymbols known, HashSet<IOperation> visited, int depth)
    {
        switch (call.TargetMethod.Name)
        {
            case "WithLifetime":
                return EndlessEnd(QueryOperations.Lambda(QueryOperations.Argument(call, "end")), known);
            case "ExtendLifetime" when TimeSpanConstant.TryEvaluate(QueryOperations.Argument(call, "duration")?.Value, known.Flow) == long.MaxValue:
                return QueryOperations.Argument(call, "duration")!.Value.Syntax;
            case "ExtendLifetime" or "Where" or "Select" or "SelectMany" or "ShiftTime" or "WithOptions" or "Over": // Over keeps each event's lifetime
                return QueryOperations.Receiver(call) is { } source ? FindEndlessLifetime(source, known, visited, depth + 1) : null;
            case "Union" or "Merge":
                foreach (var argument in call.Arguments)
                {
                    var values = argument.Value is IArrayCreationOperation { Initializer: { } array } ? array.ElementValues : ImmutableArray.Create(argument.Value);
                    foreach (var value in values)
                    {
                        if (FindEndlessLifetime(value, known, visited, depth + 1) is { } found)
                        {
                            return found;
                        }
                    }
                }

                return null;
            default:
                return null; // From (point events), windows, ToPointEvents, ClipLifetime: bounded
        }
    }

    /// <summary>
    /// Returns the syntax of the value that never comes (<c>MaxValue</c>) when <paramref name="end"/> can return one: directly, through a
    /// local, a static readonly field, either branch of a conditional, or a helper (an extension method) of the compilation; or null.
    /// </summary>
    private static SyntaxNode? EndlessEnd(IAnonymousFunctionOperation? end, KnownSymbols known)
    {
        if (end is null)
        {
            return null;
        }

        foreach (var returned in ValueFlow.Returns(end.Body))
        {
            foreach (var value in known.Flow.Values(returned))
            {
                var operation = value.Operation;
                bool endless = operation switch
                {
                    IFieldReferenceOperation { Field: { Name: "MaxValue", IsStatic: true } field } =>
                        field.ContainingType.SpecialType is SpecialType.System_DateTime or SpecialType.System_Int64
                        || field.ContainingType is { Name: "DateTimeOffset", ContainingNamespace.Name: "System" },
                    _ => operation.ConstantValue is { HasValue: true, Value: long.MaxValue },
                };
                if (endless)
                {
                    // Point at what the user wrote in the lambda when the value came from elsewhere (a local, a field, a helper).
                    return end.Body.Syntax.SyntaxTree == operation.Syntax.SyntaxTree && end.Syntax.Span.Contains(operation.Syntax.Span) ? operation.Syntax : returned.Syntax;
                }
            }
        }

        return null;
    }
}
