using System.Diagnostics.CodeAnalysis;
using System.Linq.Expressions;

namespace LinqStream.Physical.Kernels;

/// <summary>
/// Writes the structure of an expression tree as tokens (every node's kind and type, methods, members, constructors, counts,
/// and parameters and labels by ordinal), for shapes compared token by token: <see cref="KernelShape"/> (a kernel's
/// lambda) and the query compiler's plan-cache key. A derived walker decides what a constant contributes.
/// </summary>
internal abstract class ShapeWalker : ExpressionVisitor
{
    /// <summary>The token written for null (a missing node, a null constant).</summary>
    protected static readonly object NullToken = new();

    // Boxed once: a token is compared with object.Equals and hashed with GetHashCode, so a shared box is the same token as a new
    // one; every walk (each compile's plan-cache key and kernel recipes) otherwise boxes each node kind, flag, count and ordinal.
    private static readonly object[] s_nodeTypes = BoxNodeTypes();
    private static readonly object[] s_ints = BoxAll(Enumerable.Range(0, 64).ToArray());
    private static readonly object s_true = true;
    private static readonly object s_false = false;

    private readonly Dictionary<ParameterExpression, int> _parameters = new(ReferenceEqualityComparer.Instance);
    private Dictionary<LabelTarget, int>? _labels;

    /// <summary>Gets the tokens written so far.</summary>
    public List<object?> Tokens { get; } = [];

    /// <summary>Gets a value indicating whether the tree holds a node whose shape is not written (dynamic, extension, runtime variables).</summary>
    public bool Unsupported { get; private set; }

    public override Expression? Visit(Expression? node)
    {
        if (node is null)
        {
            Tokens.Add(NullToken);
            return null;
        }

        if (node.NodeType is ExpressionType.Extension or ExpressionType.Dynamic or ExpressionType.RuntimeVariables)
        {
            Unsupported = true;
            return node;
        }

        Tokens.Add((uint)node.NodeType < (uint)s_nodeTypes.Length ? s_nodeTypes[(int)node.NodeType] : node.NodeType);
        Tokens.Add(node.Type);
        return base.Visit(node);
    }

    /// <summary>Gets <paramref name="value"/> boxed, a shared box for small values.</summary>
    protected static object Box(int value) => (uint)value < (uint)s_ints.Length ? s_ints[value] : value;

    /// <summary>Gets <paramref name="value"/> boxed, a shared box.</summary>
    protected static object Box(bool value) => value ? s_true : s_false;

    /// <summary>Writes a constant's token (its value, or a parameter's ordinal when it is lifted) and returns what replaces it.</summary>
    protected abstract override Expression VisitConstant(ConstantExpression node);

    protected override Expression VisitParameter(ParameterExpression node)
    {
        if (!_parameters.TryGetValue(node, out int ordinal))
        {
            ordinal = _parameters.Count;
            _parameters[node] = ordinal;
        }

        Tokens.Add(Box(ordinal));
        Tokens.Add(Box(node.IsByRef));
        return node;
    }

    [return: NotNullIfNotNull(nameof(node))]
    protected override LabelTarget? VisitLabelTarget(LabelTarget? node)
    {
        if (node is null)
        {
            Tokens.Add(NullToken);
            return null;
        }

        _labels ??= new(ReferenceEqualityComparer.Instance);
        if (!_labels.TryGetValue(node, out int ordinal))
        {
            ordinal = _labels.Count;
            _labels[node] = ordinal;
        }

        Tokens.Add(Box(ordinal));
        Tokens.Add(node.Type);
        return node;
    }

    private static object[] BoxNodeTypes()
    {
        var types = Enum.GetValues<ExpressionType>();
        var boxes = new object[(int)types.Max() + 1];
        for (int i = 0; i < boxes.Length; i++)
        {
            boxes[i] = (ExpressionType)i; // every value is defined (0 to the last), and an undefined one is still its own token
        }

        return boxes;
    }

    private static object[] BoxAll<T>(T[] values)
        where T : struct
    {
        var boxes = new object[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            boxes[i] = values[i];
        }

        return boxes;
    }

    protected override Expression VisitBinary(BinaryExpression node)
    {
        Tokens.Add(node.Method);
        Tokens.Add(Box(node.IsLiftedToNull));
        return base.VisitBinary(node);
    }

    protected override Expression VisitUnary(UnaryExpression node)
    {
        Tokens.Add(node.Method);
        return base.VisitUnary(node);
    }

    protected override Expression VisitMember(MemberExpression node)
    {
        Tokens.Add(node.Member);
        return base.VisitMember(node);
    }

    protected override Expression VisitMethodCall(MethodCallExpression node)
    {
        Tokens.Add(node.Method);
        return base.VisitMethodCall(node);
    }

    protected override Expression VisitNew(NewExpression node)
    {
        Tokens.Add(node.Constructor);
        Tokens.Add(Box(node.Arguments.Count));
        return base.VisitNew(node);
    }

    protected override Expression VisitNewArray(NewArrayExpression node)
    {
        Tokens.Add(Box(node.Expressions.Count));
        return base.VisitNewArray(node);
    }

    protected override Expression VisitInvocation(InvocationExpression node)
    {
        Tokens.Add(Box(node.Arguments.Count));
        return base.VisitInvocation(node);
    }

    protected override Expression VisitLambda<T>(Expression<T> node)
    {
        Tokens.Add(Box(node.Parameters.Count));
        Tokens.Add(Box(node.TailCall));
        foreach (var parameter in node.Parameters)
        {
            // Declared here, so that their ordinals follow the lambda's parameter order, not the body's first use.
            VisitParameter(parameter);
        }

        return base.VisitLambda(node);
    }

    protected override Expression VisitBlock(BlockExpression node)
    {
        Tokens.Add(Box(node.Variables.Count));
        foreach (var variable in node.Variables)
        {
            VisitParameter(variable);
        }

        Tokens.Add(Box(node.Expressions.Count));
        return base.VisitBlock(node);
    }

    protected override Expression VisitGoto(GotoExpression node)
    {
        Tokens.Add(node.Kind);
        return base.VisitGoto(node);
    }

    protected override Expression VisitIndex(IndexExpression node)
    {
        Tokens.Add(node.Indexer);
        Tokens.Add(Box(node.Arguments.Count));
        return base.VisitIndex(node);
    }

    protected override Expression VisitTypeBinary(TypeBinaryExpression node)
    {
        Tokens.Add(node.TypeOperand);
        return base.VisitTypeBinary(node);
    }

    protected override Expression VisitSwitch(SwitchExpression node)
    {
        Tokens.Add(node.Comparison);
        Tokens.Add(Box(node.Cases.Count));
        return base.VisitSwitch(node);
    }

    protected override SwitchCase VisitSwitchCase(SwitchCase node)
    {
        Tokens.Add(Box(node.TestValues.Count));
        return base.VisitSwitchCase(node);
    }

    protected override Expression VisitTry(TryExpression node)
    {
        Tokens.Add(Box(node.Handlers.Count));
        return base.VisitTry(node);
    }

    protected override CatchBlock VisitCatchBlock(CatchBlock node)
    {
        Tokens.Add(node.Test);
        if (node.Variable is not null)
        {
            VisitParameter(node.Variable);
        }

        return base.VisitCatchBlock(node);
    }

    protected override Expression VisitMemberInit(MemberInitExpression node)
    {
        Tokens.Add(Box(node.Bindings.Count));
        return base.VisitMemberInit(node);
    }

    protected override MemberBinding VisitMemberBinding(MemberBinding node)
    {
        Tokens.Add(node.BindingType);
        Tokens.Add(node.Member);
        return base.VisitMemberBinding(node);
    }

    protected override MemberListBinding VisitMemberListBinding(MemberListBinding node)
    {
        Tokens.Add(Box(node.Initializers.Count));
        return base.VisitMemberListBinding(node);
    }

    protected override MemberMemberBinding VisitMemberMemberBinding(MemberMemberBinding node)
    {
        Tokens.Add(Box(node.Bindings.Count));
        return base.VisitMemberMemberBinding(node);
    }

    protected override Expression VisitListInit(ListInitExpression node)
    {
        Tokens.Add(Box(node.Initializers.Count));
        return base.VisitListInit(node);
    }

    protected override ElementInit VisitElementInit(ElementInit node)
    {
        Tokens.Add(node.AddMethod);
        Tokens.Add(Box(node.Arguments.Count));
        return base.VisitElementInit(node);
    }
}
