using System.Collections.Generic;
using System.Collections.Immutable;
using LinqStream.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace LinqStream.Analyzers;

/// <summary>LSQ0010: <c>ToListAsync()</c> with no cancellation token on a query that reads a live source (<c>QStream.From(IObservable&lt;T&gt;, ...)</c>).</summary>
/// <remarks>
/// The query is followed up through its operators (every input of a join or a merge), locals and the compilation's helpers that return
/// a query. Sources made from a list, an <c>IAsyncEnumerable</c> or an <c>EventSource</c> are not called live here: they may end.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class CollectLiveStreamAnalyzer : DiagnosticAnalyzer
{
    private const int MaxDepth = 32;

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(DiagnosticDescriptors.CollectLiveStream);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            var known = KnownSymbols.TryCreate(start.Compilation);
            if (known is not null)
            {
                start.RegisterOperationAction(c => Analyze(c, known), OperationKind.Invocation);
            }
        });
    }

    private static void Analyze(OperationAnalysisContext context, KnownSymbols known)
    {
        var invocation = (IInvocationOperation)context.Operation;
        if (invocation.TargetMethod.Name != "ToListAsync" || !known.IsQStreamMethod(invocation.TargetMethod)
            || QueryOperations.Argument(invocation, "cancellationToken") is { ArgumentKind: not ArgumentKind.DefaultValue })
        {
            return;
        }

        if (LiveSource(QueryOperations.Receiver(invocation), known, new HashSet<IOperation>(), 0) is { } source)
        {
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.CollectLiveStream, QueryOperations.OperatorLocation(invocation), "ToListAsync", source.Syntax.ToString()));
        }
    }

    /// <summary>Finds a <c>QStream.From</c> over an <c>IObservable&lt;T&gt;</c> upstream of <paramref name="stream"/>; returns its source argument, or null.</summary>
    private static IOperation? LiveSource(IOperation? stream, KnownSymbols known, HashSet<IOperation> visited, int depth)
    {
        if (stream is null || depth > MaxDepth)
        {
            return null;
        }

        foreach (var value in known.Flow.Values(stream))
        {
            if (value.Operation is not IInvocationOperation call || !visited.Add(call) || !QueryOperations.IsQueryOperator(call, known))
            {
                continue;
            }

            if (call.TargetMethod.Name == "From" && known.IsQStreamMethod(call.TargetMethod))
            {
                if (call.TargetMethod.Parameters[0].Type is INamedTypeSymbol { Name: "IObservable", ContainingNamespace.Name: "System" } && QueryOperations.Argument(call, 0) is { } source)
                {
                    return source.Value;
                }

                continue;
            }

            foreach (var argument in call.Arguments)
            {
                var inputs = argument.Value is IArrayCreationOperation { Initializer: { } array } ? array.ElementValues : ImmutableArray.Create(argument.Value);
                foreach (var input in inputs)
                {
                    if (known.IsStream(ValueFlow.StripAll(input).Type) && LiveSource(input, known, visited, depth + 1) is { } found)
                    {
                        return found;
                    }
                }
            }
        }

        return null;
    }
}
