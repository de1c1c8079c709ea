using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;
using Microsoft.CodeAnalysis.Text;

namespace LinqStream.Analyzers.Infrastructure;

/// <summary>Reads the operation tree of a query: receivers, query lambdas and where to point a diagnostic.</summary>
internal static class QueryOperations
{
    /// <summary>Strips the implicit conversions the compiler adds around an argument (to IQbservable, to Expression, to a nullable).</summary>
    public static IOperation Strip(IOperation operation)
    {
        while (operation is IConversionOperation { IsImplicit: true } conversion)
        {
            operation = conversion.Operand;
        }

        return operation;
    }

    /// <summary>Gets the argument bound to the parameter at <paramref name="ordinal"/>, or null.</summary>
    public static IArgumentOperation? Argument(IInvocationOperation invocation, int ordinal)
    {
        foreach (var argument in invocation.Arguments)
        {
            if (argument.Parameter?.Ordinal == ordinal)
            {
                return argument;
            }
        }

        return null;
    }

    /// <summary>Gets the argument bound to the parameter named <paramref name="name"/>, or null.</summary>
    public static IArgumentOperation? Argument(IInvocationOperation invocation, string name)
    {
        foreach (var argument in invocation.Arguments)
        {
            if (argument.Parameter?.Name == name)
            {
                return argument;
            }
        }

        return null;
    }

    /// <summary>Gets what a method is called on: the instance, or the <c>this</c> argument of an extension method, without conversions.</summary>
    public static IOperation? Receiver(IInvocationOperation invocation)
    {
        if (invocation.Instance is { } instance)
        {
            return Strip(instance);
        }

        return invocation.TargetMethod.IsExtensionMethod && Argument(invocation, 0) is { } first ? Strip(first.Value) : null;
    }

    /// <summary>Gets a value indicating whether <paramref name="invocation"/> is a LinqStream operator or an Rx operator on a LinqStream query.</summary>
    public static bool IsQueryOperator(IInvocationOperation invocation, KnownSymbols known) =>
        known.IsQStreamMethod(invocation.TargetMethod) || (known.IsQbservableMethod(invocation.TargetMethod) && IsStreamQuery(Receiver(invocation), known));

    /// <summary>
    /// Gets a value indicating whether <paramref name="operation"/> is a LinqStream query by meaning, not by static type: typed
    /// <c>IQStream&lt;T&gt;</c>, an Rx <c>Qbservable</c> operator over one (<c>bids.Throttle(...)</c> is typed <c>IQbservable&lt;T&gt;</c> but is
    /// still translated by LinqStream), or a local, helper result, parameter (of a helper followed from its call) or field that holds one.
    /// </summary>
    public static bool IsStreamQuery(IOperation? operation, KnownSymbols known, FlowContext? context = null) => IsStreamQuery(operation, known, context, 0);

    private static bool IsStreamQuery(IOperation? operation, KnownSymbols known, FlowContext? context, int depth)
    {
        if (operation is null || depth > 32)
        {
            return false;
        }

        var stripped = ValueFlow.StripAll(operation);
        if (known.IsStream(stripped.Type))
        {
            return true;
        }

        if (!known.CanHoldQuery(operation.Type) && !known.CanHoldQuery(stripped.Type))
        {
            return false;
        }

        foreach (var value in known.Flow.Values(operation, context))
        {
            var found = value.Operation;
            if (known.IsStream(found.Type)
                || (found is IInvocationOperation invocation && known.IsQbservableMethod(invocation.TargetMethod) && IsStreamQuery(Receiver(invocation), known, value.Context, depth + 1)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Gets the lambda passed as <paramref name="argument"/>, looking through the delegate or expression-tree conversion.</summary>
    public static IAnonymousFunctionOperation? Lambda(IArgumentOperation? argument)
    {
        var value = argument?.Value;
        while (value is IConversionOperation or IDelegateCreationOperation or IParenthesizedOperation)
        {
            value = value switch
            {
                IConversionOperation conversion => conversion.Operand,
                IDelegateCreationOperation creation => creation.Target,
                _ => ((IParenthesizedOperation)value).Operand,
            };
        }

        return value as IAnonymousFunctionOperation;
    }

    /// <summary>Gets the query operator that <paramref name="lambda"/> is an argument of, or null when it is some other lambda.</summary>
    public static IInvocationOperation? QueryOperatorOf(IAnonymousFunctionOperation lambda, KnownSymbols known)
    {
        var parent = lambda.Parent;
        while (parent is IConversionOperation or IDelegateCreationOperation or IParenthesizedOperation)
        {
            parent = parent.Parent;
        }

        return parent is IArgumentOperation { Parent: IInvocationOperation invocation } && IsQueryOperator(invocation, known) ? invocation : null;
    }

    /// <summary>Finds the outermost query lambda around <paramref name="operation"/> (a nested LINQ-to-objects lambda counts as inside it).</summary>
    public static IAnonymousFunctionOperation? EnclosingQueryLambda(IOperation operation, KnownSymbols known)
    {
        IAnonymousFunctionOperation? found = null;
        for (var parent = operation.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is IAnonymousFunctionOperation lambda && QueryOperatorOf(lambda, known) is not null)
            {
                found = lambda;
            }
        }

        return found;
    }

    /// <summary>Gets where to report on an operator call: from its name to the end of its arguments, or the whole query clause.</summary>
    public static Location OperatorLocation(IInvocationOperation invocation)
    {
        var syntax = invocation.Syntax;
        var name = syntax switch
        {
            InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax member } => member.Name,
            InvocationExpressionSyntax { Expression: MemberBindingExpressionSyntax binding } => binding.Name,
            _ => null,
        };
        return name is null ? syntax.GetLocation() : Location.Create(syntax.SyntaxTree, TextSpan.FromBounds(name.SpanStart, syntax.Span.End));
    }

    /// <summary>Gets a value indicating whether <paramref name="operation"/> is used as the instance of its parent member access or call.</summary>
    public static IOperation? ParentUsingAsInstance(IOperation operation)
    {
        var child = operation;
        var parent = operation.Parent;
        while (parent is IConversionOperation { IsImplicit: true })
        {
            child = parent;
            parent = parent.Parent;
        }

        return parent switch
        {
            IInvocationOperation call when call.Instance == child => call,
            IMemberReferenceOperation member when member.Instance == child => member,
            _ => null,
        };
    }
}
