using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using LinqStream.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace LinqStream.Analyzers;

/// <summary>
/// LSQ0005: an input of a temporal join whose events never end (<c>WithLifetime(..., e =&gt; DateTimeOffset.MaxValue)</c>,
/// <c>ExtendLifetime(TimeSpan.MaxValue)</c>), so the join keeps them forever.
/// </summary>
/// <remarks>
/// Each join input is traced back through stateless operators and locals initialised with a query; windows, <c>ToPointEvents</c>
/// and <c>ClipLifetime</c> bound the lifetime again and stop the search.
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
        stream = QueryOperations.Strip(stream);
        if (depth > MaxDepth || !visited.Add(stream))
        {
            return null;
        }

        if (stream is ILocalReferenceOperation local)
        {
            return Initializer(local, stream.SemanticModel) is { } initializer ? FindEndlessLifetime(initializer, known, visited, depth + 1) : null;
        }

        if (stream is not IInvocationOperation call || !QueryOperations.IsQueryOperator(call, known))
        {
            return null;
        }

        switch (call.TargetMethod.Name)
        {
            case "WithLifetime":
                return EndlessEnd(QueryOperations.Lambda(QueryOperations.Argument(call, "end")));
            case "ExtendLifetime" when TimeSpanConstant.TryEvaluate(QueryOperations.Argument(call, "duration")?.Value) == long.MaxValue:
                return QueryOperations.Argument(call, "duration")!.Value.Syntax;
            case "ExtendLifetime" or "Where" or "Select" or "SelectMany" or "ShiftTime" or "WithOptions":
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

    /// <summary>Returns the body of <paramref name="end"/> when it is a constant that never comes (<c>MaxValue</c>), or null.</summary>
    private static SyntaxNode? EndlessEnd(IAnonymousFunctionOperation? end)
    {
        if (end is null || end.Body.Operations.Length != 1 || end.Body.Operations[0] is not IReturnOperation { ReturnedValue: { } returned })
        {
            return null;
        }

        var value = QueryOperations.Strip(returned);
        bool endless = value switch
        {
            IFieldReferenceOperation { Field: { Name: "MaxValue", IsStatic: true } field } =>
                field.ContainingType.SpecialType is SpecialType.System_DateTime or SpecialType.System_Int64
                || field.ContainingType is { Name: "DateTimeOffset", ContainingNamespace.Name: "System" },
            _ => value.ConstantValue is { HasValue: true, Value: long.MaxValue },
        };
        return endless ? value.Syntax : null;
    }

    /// <summary>Gets the initializer of a local declared as <c>var x = query;</c>, or null.</summary>
    private static IOperation? Initializer(ILocalReferenceOperation local, SemanticModel? model)
    {
        if (model is null || local.Local.DeclaringSyntaxReferences.Length != 1)
        {
            return null;
        }

        return local.Local.DeclaringSyntaxReferences[0].GetSyntax() is VariableDeclaratorSyntax { Initializer.Value: { } value } && value.SyntaxTree == model.SyntaxTree
            ? model.GetOperation(value)
            : null;
    }
}
