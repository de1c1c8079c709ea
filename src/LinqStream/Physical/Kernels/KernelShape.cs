using System.Linq.Expressions;

namespace LinqStream.Physical.Kernels;

/// <summary>
/// The shape of a kernel lambda: every node's kind, type, method and member, with the objects it captures (the user's
/// closures, aggregate columns, delegates) lifted out as parameters. Two lambdas of one shape compile to the same code.
/// </summary>
/// <remarks>
/// Constants of value types and strings are part of the shape (<c>x &gt; 5</c> and <c>x &gt; 6</c> differ, as literals do in
/// EF Core's query cache); constants of any other reference type are lifted: the shape keeps only their type, and
/// <see cref="Values"/> holds them in the order the tree is walked. <see cref="Parameterized"/> is the same lambda with
/// each lifted constant replaced by a local read from an <c>object[]</c> at the kernel's entry.
/// </remarks>
internal sealed class KernelShape : IEquatable<KernelShape>
{
    private KernelShape(ShapeKey key, object?[] values, LambdaExpression parameterized, ParameterExpression parameters)
    {
        Key = key;
        Values = values;
        Parameterized = parameterized;
        Parameters = parameters;
    }

    /// <summary>Gets what the cache is keyed by: the tokens only, so an entry keeps none of the values of the query that compiled it.</summary>
    public ShapeKey Key { get; }

    /// <summary>Gets the lifted constants, in walk order.</summary>
    public object?[] Values { get; }

    /// <summary>Gets the lambda with its lifted constants read from <see cref="Parameters"/> into locals at entry.</summary>
    public LambdaExpression Parameterized { get; }

    /// <summary>Gets the <c>object[]</c> parameter that <see cref="Parameterized"/> reads its lifted constants from.</summary>
    public ParameterExpression Parameters { get; }

    /// <summary>Gets the shape of <paramref name="lambda"/>, or null when it holds a node this class does not compare (dynamic or extension nodes).</summary>
    public static KernelShape? Of(LambdaExpression lambda)
    {
        var walker = new Walker();
        var rewritten = (LambdaExpression)walker.Visit(lambda)!;
        if (walker.Unsupported)
        {
            return null;
        }

        var parameters = Expression.Parameter(typeof(object[]), "parameters");
        var parameterized = rewritten;
        if (walker.Locals.Count > 0)
        {
            // Locals assigned once per kernel call, so the loop reads a local where it read a closure constant before.
            var entry = new List<Expression>(walker.Locals.Count + 1);
            for (int i = 0; i < walker.Locals.Count; i++)
            {
                var local = walker.Locals[i];
                entry.Add(Expression.Assign(local, Expression.Convert(Expression.ArrayIndex(parameters, Expression.Constant(i)), local.Type)));
            }

            entry.Add(rewritten.Body);
            parameterized = Expression.Lambda(rewritten.Type, Expression.Block(rewritten.Body.Type, walker.Locals, entry), rewritten.Name, rewritten.TailCall, rewritten.Parameters);
        }

        return new KernelShape(new ShapeKey([.. walker.Tokens]), [.. walker.Values], parameterized, parameters);
    }

    public bool Equals(KernelShape? other) => other is not null && Key.Equals(other.Key);

    public override bool Equals(object? obj) => obj is KernelShape other && Equals(other);

    public override int GetHashCode() => Key.GetHashCode();

    /// <summary>Whether a constant is lifted out as a parameter (its value is not part of the shape).</summary>
    internal static bool IsLifted(ConstantExpression constant) =>
        constant.Value is not null && !constant.Type.IsValueType && constant.Value is not string;

    /// <summary>The tokens of a shape: node kinds, types, members, ordinals and kept literals, compared one by one.</summary>
    internal sealed class ShapeKey : IEquatable<ShapeKey>
    {
        private readonly object?[] _tokens;
        private readonly int _hash;

        public ShapeKey(object?[] tokens)
        {
            _tokens = tokens;
            var hash = default(HashCode);
            foreach (var token in tokens)
            {
                // In-process only (the cache is never persisted nor shared between processes), so randomized string hashes are fine.
                hash.Add(token);
            }

            _hash = hash.ToHashCode();
        }

        public bool Equals(ShapeKey? other)
        {
            if (other is null || other._hash != _hash || other._tokens.Length != _tokens.Length)
            {
                return false;
            }

            for (int i = 0; i < _tokens.Length; i++)
            {
                if (!Equals(_tokens[i], other._tokens[i]))
                {
                    return false;
                }
            }

            return true;
        }

        public override bool Equals(object? obj) => obj is ShapeKey other && Equals(other);

        public override int GetHashCode() => _hash;
    }

    /// <summary>Walks a tree once: writes its tokens and replaces lifted constants by locals.</summary>
    private sealed class Walker : ShapeWalker
    {
        public List<object?> Values { get; } = [];

        public List<ParameterExpression> Locals { get; } = [];

        protected override Expression VisitConstant(ConstantExpression node)
        {
            if (!IsLifted(node))
            {
                Tokens.Add(node.Value ?? NullToken);
                return node;
            }

            Tokens.Add(Box(Values.Count));
            Values.Add(node.Value);
            var local = Expression.Variable(node.Type, "c" + Locals.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Locals.Add(local);
            return local;
        }
    }
}
