using System.Collections.Concurrent;
using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace LinqStream.Analyzers.Infrastructure;

/// <summary>
/// Follows a value back to where it was made, inside a method and through the compilation's own helpers: a local to its
/// initializer and every assignment, a parameter of a helper to the argument of the call being followed, a call of a helper (a
/// method, an extension method or a local function of this compilation) to what it returns, a static readonly field to its
/// initializer, and both branches of a conditional.
/// </summary>
/// <remarks>
/// What it does not follow: fields that are not static readonly, properties, values stored in collections, parameters of a method
/// reached without following its call (it does not search the callers), virtual or interface dispatch, and anything deeper than
/// <see cref="MaxDepth"/> steps. Those values are returned as they are, so a rule treats them as unknown.
/// </remarks>
internal sealed class ValueFlow
{
    private const int MaxDepth = 12;

    private readonly Compilation _compilation;
    private readonly ConcurrentDictionary<SyntaxTree, SemanticModel> _models = new();
    private readonly ConcurrentDictionary<ISymbol, IOperation?> _bodies = new(SymbolEqualityComparer.Default);

    public ValueFlow(Compilation compilation) => _compilation = compilation;

    /// <summary>Gets the values <paramref name="operation"/> may have: the operations that made it, each with the call context it was found in.</summary>
    public List<FlowValue> Values(IOperation? operation, FlowContext? context = null)
    {
        var values = new List<FlowValue>();
        var visited = new HashSet<(IOperation, FlowContext?)>();
        Collect(operation, context, values, visited, 0);
        return values;
    }

    /// <summary>Gets the single value <paramref name="operation"/> can have, or null when it has none or several.</summary>
    public FlowValue? SingleValue(IOperation? operation, FlowContext? context = null)
    {
        var values = Values(operation, context);
        return values.Count == 1 ? values[0] : null;
    }

    /// <summary>Gets the body of a method, local function or lambda of this compilation, or null.</summary>
    public IOperation? Body(IMethodSymbol method)
    {
        var definition = method.PartialImplementationPart ?? method.OriginalDefinition;
        return _bodies.GetOrAdd(definition, d => FindBody((IMethodSymbol)d));
    }

    /// <summary>Gets the operation of a field's initializer (a static readonly field of this compilation), or null.</summary>
    public IOperation? FieldInitializer(IFieldSymbol field)
    {
        if (!field.IsStatic || !(field.IsReadOnly || field.IsConst) || field.DeclaringSyntaxReferences.Length != 1)
        {
            return null;
        }

        var syntax = field.DeclaringSyntaxReferences[0].GetSyntax();
        var clause = syntax is VariableDeclaratorSyntax { Initializer: { } equals } ? equals : syntax;
        return Model(syntax.SyntaxTree).GetOperation(clause) is IFieldInitializerOperation initializer ? initializer.Value : null;
    }

    /// <summary>Gets a value indicating whether <paramref name="method"/> has a body in this compilation that can be followed.</summary>
    public static bool IsOwnMethod(IMethodSymbol method) =>
        method.DeclaringSyntaxReferences.Length > 0 && !method.IsAbstract && !method.IsVirtual && !method.IsOverride && !method.IsExtern;

    /// <summary>Gets the operations returned by <paramref name="body"/> itself (not by lambdas or local functions nested in it).</summary>
    public static IEnumerable<IOperation> Returns(IOperation body)
    {
        foreach (var operation in body.Descendants())
        {
            if (operation is IReturnOperation { ReturnedValue: { } value } && IsDirectlyIn(operation, body))
            {
                yield return value;
            }
        }
    }

    /// <summary>Gets a value indicating whether no lambda or local function stands between <paramref name="operation"/> and <paramref name="body"/>.</summary>
    public static bool IsDirectlyIn(IOperation operation, IOperation body)
    {
        for (var parent = operation.Parent; parent is not null && parent != body; parent = parent.Parent)
        {
            if (parent is IAnonymousFunctionOperation or ILocalFunctionOperation)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Gets the outermost operation of the method or lambda body that contains <paramref name="operation"/>.</summary>
    public static IOperation Root(IOperation operation)
    {
        var root = operation;
        while (root.Parent is not null)
        {
            root = root.Parent;
        }

        return root;
    }

    private void Collect(IOperation? operation, FlowContext? context, List<FlowValue> values, HashSet<(IOperation, FlowContext?)> visited, int depth)
    {
        if (operation is null)
        {
            return;
        }

        operation = StripAll(operation);
        if (depth > MaxDepth || !visited.Add((operation, context)))
        {
            return;
        }

        switch (operation)
        {
            case ILocalReferenceOperation local:
                foreach (var assigned in Assignments(local))
                {
                    Collect(assigned, context, values, visited, depth + 1);
                }

                return;
            case IParameterReferenceOperation parameter when context is not null && Binds(context, parameter.Parameter) is { } argument:
                Collect(argument, context.Parent, values, visited, depth + 1);
                return;
            case IConditionalOperation { WhenFalse: { } whenFalse } conditional when conditional.Type is not null:
                Collect(conditional.WhenTrue, context, values, visited, depth + 1);
                Collect(whenFalse, context, values, visited, depth + 1);
                return;
            case ICoalesceOperation coalesce:
                Collect(coalesce.Value, context, values, visited, depth + 1);
                Collect(coalesce.WhenNull, context, values, visited, depth + 1);
                return;
            case IFieldReferenceOperation { Field: { IsStatic: true, IsReadOnly: true } field } when FieldInitializer(field) is { } initializer:
                Collect(initializer, null, values, visited, depth + 1);
                return;
            case IInvocationOperation call when call.Type is { SpecialType: not SpecialType.System_Void } && IsOwnMethod(call.TargetMethod) && Body(call.TargetMethod) is { } body:
                var inner = new FlowContext(call, context);
                foreach (var returned in Returns(body))
                {
                    Collect(returned, inner, values, visited, depth + 1);
                }

                return;
            default:
                values.Add(new FlowValue(operation, context));
                return;
        }
    }

    /// <summary>Gets the argument bound to <paramref name="parameter"/> by the call that <paramref name="context"/> follows, or null.</summary>
    private static IOperation? Binds(FlowContext context, IParameterSymbol parameter)
    {
        if (!SymbolEqualityComparer.Default.Equals(parameter.ContainingSymbol.OriginalDefinition, context.Call.TargetMethod.OriginalDefinition))
        {
            return null;
        }

        foreach (var argument in context.Call.Arguments)
        {
            if (argument.Parameter?.Ordinal == parameter.Ordinal)
            {
                return argument.Value;
            }
        }

        return null;
    }

    /// <summary>Gets the initializer of a local and every value assigned to it in the body that declares it.</summary>
    private static IEnumerable<IOperation> Assignments(ILocalReferenceOperation local)
    {
        foreach (var operation in Root(local).Descendants())
        {
            switch (operation)
            {
                case IVariableDeclaratorOperation declarator when SymbolEqualityComparer.Default.Equals(declarator.Symbol, local.Local):
                    if (declarator.GetVariableInitializer() is { } initializer)
                    {
                        yield return initializer.Value;
                    }

                    break;
                case ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } assignment when SymbolEqualityComparer.Default.Equals(target.Local, local.Local):
                    yield return assignment.Value;
                    break;
            }
        }
    }

    /// <summary>Strips every conversion (a cast to <c>IObservable&lt;T&gt;</c> keeps the value), parentheses and the query-syntax wrapper.</summary>
    public static IOperation StripAll(IOperation operation)
    {
        while (true)
        {
            switch (operation)
            {
                case IConversionOperation conversion:
                    operation = conversion.Operand;
                    continue;
                case IParenthesizedOperation parenthesized:
                    operation = parenthesized.Operand;
                    continue;
                case ITranslatedQueryOperation query:
                    operation = query.Operation;
                    continue;
                default:
                    return operation;
            }
        }
    }

    private IOperation? FindBody(IMethodSymbol method)
    {
        if (method.DeclaringSyntaxReferences.Length == 0)
        {
            return null;
        }

        var syntax = method.DeclaringSyntaxReferences[0].GetSyntax();
        return Model(syntax.SyntaxTree).GetOperation(syntax) switch
        {
            IMethodBodyBaseOperation body => body,
            ILocalFunctionOperation local => local.Body ?? (IOperation?)local.IgnoredBody,
            IAnonymousFunctionOperation lambda => lambda.Body,
            _ => null,
        };
    }

#pragma warning disable RS1030 // Helpers live in other files of the same compilation; one model per tree, cached for the compilation's lifetime.
    private SemanticModel Model(SyntaxTree tree) => _models.GetOrAdd(tree, t => _compilation.GetSemanticModel(t));
#pragma warning restore RS1030
}

/// <summary>A call being followed into a helper: its arguments give the helper's parameters their values.</summary>
internal sealed class FlowContext
{
    public FlowContext(IInvocationOperation call, FlowContext? parent)
    {
        Call = call;
        Parent = parent;
    }

    public IInvocationOperation Call { get; }

    public FlowContext? Parent { get; }
}

/// <summary>A value found by <see cref="ValueFlow"/>, and the call context that gives meaning to the parameters it reads.</summary>
internal readonly struct FlowValue
{
    public FlowValue(IOperation operation, FlowContext? context)
    {
        Operation = operation;
        Context = context;
    }

    public IOperation Operation { get; }

    public FlowContext? Context { get; }
}
