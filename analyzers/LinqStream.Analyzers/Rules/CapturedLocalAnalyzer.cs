using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using LinqStream.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace LinqStream.Analyzers;

/// <summary>LSQ0006: a local or parameter captured by a query lambda and assigned again, later in the same method, after the query is built.</summary>
/// <remarks>
/// The query is an expression tree that reads captured variables whenever its lambdas run, after Subscribe. "Later" is textual order in one method body;
/// a loop that assigns before the query on its next iteration is not considered.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class CapturedLocalAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(DiagnosticDescriptors.CapturedLocalAssignedLater);

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
                start.RegisterOperationBlockStartAction(block => AnalyzeBlock(block, known));
            }
        });
    }

    private static void AnalyzeBlock(OperationBlockStartAnalysisContext block, KnownSymbols known)
    {
        var captures = new ConcurrentBag<Capture>();
        var writes = new ConcurrentBag<(ISymbol Symbol, IOperation Write)>();

        block.RegisterOperationAction(
            c =>
            {
                var invocation = (IInvocationOperation)c.Operation;
                if (QueryOperations.IsQueryOperator(invocation, known))
                {
                    CollectCaptures(invocation, captures);
                }
            },
            OperationKind.Invocation);

        block.RegisterOperationAction(
            c =>
            {
                if (Target(c.Operation) is { } target && Variable(QueryOperations.Strip(target)) is { } symbol)
                {
                    writes.Add((symbol, c.Operation));
                }
            },
            OperationKind.SimpleAssignment,
            OperationKind.CompoundAssignment,
            OperationKind.CoalesceAssignment,
            OperationKind.Increment,
            OperationKind.Decrement,
            OperationKind.Argument);

        block.RegisterOperationBlockEndAction(c =>
        {
            if (captures.IsEmpty || writes.IsEmpty)
            {
                return;
            }

            var reported = new HashSet<IOperation>();
            foreach (var capture in captures)
            {
                var later = FirstWriteAfter(capture, writes);
                if (later is not null && reported.Add(capture.Reference))
                {
                    int line = later.Syntax.GetLocation().GetLineSpan().StartLinePosition.Line + 1;
                    c.ReportDiagnostic(Diagnostic.Create(
                        DiagnosticDescriptors.CapturedLocalAssignedLater,
                        capture.Reference.Syntax.GetLocation(),
                        ImmutableArray.Create(later.Syntax.GetLocation()),
                        capture.Symbol.Name,
                        line));
                }
            }
        });
    }

    /// <summary>Records every local or parameter of the enclosing code that a lambda argument of <paramref name="query"/> reads.</summary>
    private static void CollectCaptures(IInvocationOperation query, ConcurrentBag<Capture> captures)
    {
        foreach (var argument in query.Arguments)
        {
            if (QueryOperations.Lambda(argument) is not { } lambda)
            {
                continue;
            }

            foreach (var operation in lambda.Body.Descendants())
            {
                if (Variable(operation) is { } symbol && !IsDeclaredWithin(symbol, lambda.Symbol))
                {
                    captures.Add(new Capture(symbol, operation, query));
                }
            }
        }
    }

    private static IOperation? FirstWriteAfter(Capture capture, IEnumerable<(ISymbol Symbol, IOperation Write)> writes)
    {
        var built = capture.Query.Syntax.Span;
        IOperation? first = null;
        foreach (var (symbol, write) in writes)
        {
            var span = write.Syntax.Span;
            if (SymbolEqualityComparer.Default.Equals(symbol, capture.Symbol) && span.Start >= built.End
                && write.Syntax.SyntaxTree == capture.Query.Syntax.SyntaxTree && (first is null || span.Start < first.Syntax.SpanStart))
            {
                first = write;
            }
        }

        return first;
    }

    /// <summary>Gets the variable written by an assignment, an increment or a ref/out argument, or null.</summary>
    private static IOperation? Target(IOperation operation) => operation switch
    {
        IAssignmentOperation assignment => assignment.Target,
        IIncrementOrDecrementOperation increment => increment.Target,
        IArgumentOperation { Parameter.RefKind: RefKind.Ref or RefKind.Out } argument => argument.Value,
        _ => null,
    };

    private static ISymbol? Variable(IOperation operation) => operation switch
    {
        ILocalReferenceOperation local => local.Local,
        IParameterReferenceOperation parameter => parameter.Parameter,
        _ => null,
    };

    /// <summary>Gets a value indicating whether <paramref name="variable"/> belongs to <paramref name="lambda"/> or to code nested in it.</summary>
    private static bool IsDeclaredWithin(ISymbol variable, ISymbol lambda)
    {
        for (var owner = variable.ContainingSymbol; owner is not null; owner = owner.ContainingSymbol)
        {
            if (SymbolEqualityComparer.Default.Equals(owner, lambda))
            {
                return true;
            }

            if (owner is INamedTypeSymbol)
            {
                return false;
            }
        }

        return false;
    }

    private sealed class Capture(ISymbol symbol, IOperation reference, IInvocationOperation query)
    {
        public ISymbol Symbol { get; } = symbol;

        public IOperation Reference { get; } = reference;

        public IInvocationOperation Query { get; } = query;
    }
}
