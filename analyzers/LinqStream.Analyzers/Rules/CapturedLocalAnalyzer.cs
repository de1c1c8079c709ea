using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using LinqStream.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace LinqStream.Analyzers;

/// <summary>
/// LSQ0006: a local, parameter or static field captured by a query lambda and assigned again (or an object it holds mutated) in the
/// same method after the query is built.
/// </summary>
/// <remarks>
/// The query is an expression tree that reads captured variables whenever its lambdas run, after Subscribe. "After" is later in the
/// text, or anywhere in a loop that builds the query when the variable outlives one iteration. Not reported: a write on the other
/// branch of an <c>if</c>, and a write after the query was awaited to completion. Writes in other methods are not seen.
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
                if (c.Operation is IDeconstructionAssignmentOperation deconstruction)
                {
                    // (lo, hi) = (5m, 50m): every variable of the tuple on the left is written.
                    foreach (var element in deconstruction.Target.DescendantsAndSelf())
                    {
                        if (Variable(element) is { } written)
                        {
                            writes.Add((written, c.Operation));
                        }
                    }
                }
                else if (Target(c.Operation) is { } target && Written(QueryOperations.Strip(target)) is { } symbol)
                {
                    writes.Add((symbol, c.Operation));
                }
            },
            OperationKind.SimpleAssignment,
            OperationKind.CompoundAssignment,
            OperationKind.CoalesceAssignment,
            OperationKind.DeconstructionAssignment,
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

    /// <summary>
    /// Finds the first write of the captured variable that runs after the query is built: later in the text, or anywhere in a loop that
    /// also builds the query (the next iteration's query reads the new value) when the variable is declared outside that loop. A write on
    /// the other branch of an <c>if</c>, or after the query was already run to completion (awaited), does not count.
    /// </summary>
    private static IOperation? FirstWriteAfter(Capture capture, IEnumerable<(ISymbol Symbol, IOperation Write)> writes)
    {
        var built = capture.Query.Syntax.Span;
        IOperation? first = null;
        foreach (var (symbol, write) in writes)
        {
            var span = write.Syntax.Span;
            if (!SymbolEqualityComparer.Default.Equals(symbol, capture.Symbol) || write.Syntax.SyntaxTree != capture.Query.Syntax.SyntaxTree
                || (first is not null && span.Start >= first.Syntax.SpanStart))
            {
                continue;
            }

            bool later = span.Start >= built.End || InSameLoop(write, capture.Query, symbol);
            if (later && !OnOtherBranch(write, capture.Query) && !CompletedBefore(capture.Query, write))
            {
                first = write;
            }
        }

        return first;
    }

    /// <summary>Gets a value indicating whether a loop holds both the write and the query, and the variable outlives one iteration.</summary>
    private static bool InSameLoop(IOperation write, IOperation query, ISymbol symbol)
    {
        for (var loop = query.Parent; loop is not null; loop = loop.Parent)
        {
            if (loop is ILoopOperation { Body: var body } && loop.Syntax.Span.Contains(write.Syntax.Span))
            {
                // A variable declared in the body is a new one each iteration (and a foreach variable is never assigned by the user).
                return !(symbol is ILocalSymbol local && local.DeclaringSyntaxReferences.Length == 1 && body.Syntax.Span.Contains(local.DeclaringSyntaxReferences[0].Span));
            }
        }

        return false;
    }

    /// <summary>Gets a value indicating whether the write and the query sit on the two branches of one <c>if</c> (only one of them runs).</summary>
    private static bool OnOtherBranch(IOperation write, IOperation query)
    {
        for (var parent = write.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is IConditionalOperation { WhenFalse: { } whenFalse } conditional)
            {
                var q = query.Syntax.Span;
                var w = write.Syntax.Span;
                if ((conditional.WhenTrue.Syntax.Span.Contains(q) && whenFalse.Syntax.Span.Contains(w))
                    || (whenFalse.Syntax.Span.Contains(q) && conditional.WhenTrue.Syntax.Span.Contains(w)))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// Gets a value indicating whether the query was run to completion before <paramref name="write"/>: awaited where it is built
    /// (<c>await q.Where(...).ToListAsync()</c>), or held in a local that is last used, awaited, before the write.
    /// </summary>
    private static bool CompletedBefore(IOperation query, IOperation write)
    {
        var outer = query;
        while (outer.Parent is { } parent && parent is not (IExpressionStatementOperation or IVariableDeclaratorOperation or IVariableInitializerOperation or IReturnOperation or IBlockOperation))
        {
            if (parent is IAwaitOperation)
            {
                return true;
            }

            outer = parent;
        }

        if (outer.Parent is not IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator })
        {
            return false;
        }

        bool awaited = false;
        foreach (var use in ValueFlow.Root(query).Descendants())
        {
            if (use is ILocalReferenceOperation reference && SymbolEqualityComparer.Default.Equals(reference.Local, declarator.Symbol))
            {
                if (use.Syntax.SpanStart >= write.Syntax.SpanStart)
                {
                    return false;
                }

                for (var parent = use.Parent; parent is not null && parent is not IBlockOperation; parent = parent.Parent)
                {
                    awaited |= parent is IAwaitOperation;
                }
            }
        }

        return awaited;
    }

    /// <summary>Gets the variable written by an assignment, an increment or a ref/out argument, or null.</summary>
    private static IOperation? Target(IOperation operation) => operation switch
    {
        IAssignmentOperation assignment => assignment.Target,
        IIncrementOrDecrementOperation increment => increment.Target,
        IArgumentOperation { Parameter.RefKind: RefKind.Ref or RefKind.Out } argument => argument.Value,
        _ => null,
    };

    /// <summary>Gets the variable a query lambda reads: a local, a parameter, or a static field that is not readonly.</summary>
    private static ISymbol? Variable(IOperation operation) => operation switch
    {
        ILocalReferenceOperation local => local.Local,
        IParameterReferenceOperation parameter => parameter.Parameter,
        IFieldReferenceOperation { Field: { IsStatic: true, IsReadOnly: false, IsConst: false } field } when field.DeclaringSyntaxReferences.Length > 0 => field,
        _ => null,
    };

    /// <summary>Gets the variable an assignment changes: the variable itself, or the object a variable holds (<c>options.Min = 20</c>).</summary>
    private static ISymbol? Written(IOperation target) =>
        Variable(target) ?? (target is IMemberReferenceOperation { Instance: { } instance } && instance.Type is { IsReferenceType: true } ? Variable(QueryOperations.Strip(instance)) : null);

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
