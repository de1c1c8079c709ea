using System.Linq.Expressions;
using System.Reactive.Linq;
using System.Runtime.CompilerServices;

namespace LinqStream.Query;

/// <summary>
/// The key of <see cref="PlanCache"/>: a query expression's shape (every node's kind, type, method and member, the result
/// type, and every constant by value) with its sources and closure objects lifted out as parameters (<see cref="Lifted"/>,
/// distinct, in the order the walk meets them; the key records where each one is used, so two uses of one closure stay one).
/// </summary>
internal sealed class QueryShape : IEquatable<QueryShape>
{
    private readonly object?[] _tokens;
    private readonly int _hash;

    private QueryShape(object?[] tokens, int hash, IReadOnlyList<object> lifted)
    {
        _tokens = tokens;
        _hash = hash;
        Lifted = lifted;
    }

    /// <summary>Gets the lifted objects of the query the shape was taken from (empty in a cached key).</summary>
    public IReadOnlyList<object> Lifted { get; }

    /// <summary>The shape of <paramref name="query"/> compiled for results of <paramref name="resultType"/>; null when it holds a node the walk does not know.</summary>
    public static QueryShape? Of(Expression query, Type resultType)
    {
        var walker = new Walker();
        walker.Tokens.Add(resultType);
        walker.Visit(query);
        if (walker.Unsupported)
        {
            return null;
        }

        var hash = default(HashCode);
        foreach (var token in walker.Tokens)
        {
            hash.Add(token);
        }

        return new QueryShape([.. walker.Tokens], hash.ToHashCode(), walker.Lifted);
    }

    /// <summary>This key without the lifted objects, so the cache keeps no user data alive.</summary>
    public QueryShape WithoutLifted() => new(_tokens, _hash, []);

    public bool Equals(QueryShape? other) =>
        other is not null && other._hash == _hash && other._tokens.Length == _tokens.Length && _tokens.AsSpan().SequenceEqual(other._tokens, Comparer.Instance);

    public override bool Equals(object? obj) => Equals(obj as QueryShape);

    public override int GetHashCode() => _hash;

    private sealed class Comparer : IEqualityComparer<object?>
    {
        public static readonly Comparer Instance = new();

        public new bool Equals(object? x, object? y) => object.Equals(x, y);

        public int GetHashCode(object? obj) => obj?.GetHashCode() ?? 0;
    }

    private sealed class Walker : ExpressionVisitor
    {
        private readonly Dictionary<object, int> _lifted = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<ParameterExpression, int> _parameters = new(ReferenceEqualityComparer.Instance);

        public List<object?> Tokens { get; } = [];

        public List<object> Lifted { get; } = [];

        public bool Unsupported { get; private set; }

        public override Expression? Visit(Expression? node)
        {
            if (node is null)
            {
                Tokens.Add(null);
                return null;
            }

            Tokens.Add(node.NodeType);
            Tokens.Add(node.Type);
            switch (node.NodeType)
            {
                case ExpressionType.Extension or ExpressionType.Block or ExpressionType.Goto or ExpressionType.Label or ExpressionType.Loop
                    or ExpressionType.Switch or ExpressionType.Try or ExpressionType.Dynamic or ExpressionType.RuntimeVariables or ExpressionType.DebugInfo:
                    Unsupported = true;
                    return node;
            }

            return base.Visit(node);
        }

        protected override Expression VisitMethodCall(MethodCallExpression node)
        {
            Tokens.Add(node.Method);
            if (node.Method.DeclaringType == typeof(QStream) && node.Method.Name == nameof(QStream.From) && node.Arguments[0] is ConstantExpression { Value: { } source })
            {
                // The user's data: a parameter of the plan, whatever it holds.
                Lift(source);
                foreach (var argument in node.Arguments.Skip(1))
                {
                    Visit(argument);
                }

                return node;
            }

            return base.VisitMethodCall(node);
        }

        protected override Expression VisitConstant(ConstantExpression node)
        {
            switch (node.Value)
            {
                case IQbservable { Provider: Linq.Provider.QStreamProvider } query:
                    // A stream used as an argument (Join, Union): translation reads its expression, so the shape does too.
                    Tokens.Add("query");
                    Visit(query.Expression);
                    break;
                case { } value when value.GetType().IsDefined(typeof(CompilerGeneratedAttribute), inherit: false):
                    Lift(value); // a closure: the captured variables are read when the kernels run, not when the plan is made
                    break;
                default:
                    Tokens.Add(node.Value);
                    break;
            }

            return node;
        }

        protected override Expression VisitParameter(ParameterExpression node)
        {
            if (!_parameters.TryGetValue(node, out int index))
            {
                index = _parameters.Count;
                _parameters[node] = index;
            }

            Tokens.Add(index);
            return node;
        }

        protected override Expression VisitMember(MemberExpression node)
        {
            Tokens.Add(node.Member);
            return base.VisitMember(node);
        }

        protected override Expression VisitNew(NewExpression node)
        {
            Tokens.Add(node.Constructor);
            Tokens.Add(node.Members?.Count ?? -1);
            foreach (var member in node.Members ?? [])
            {
                Tokens.Add(member);
            }

            return base.VisitNew(node);
        }

        protected override Expression VisitUnary(UnaryExpression node)
        {
            Tokens.Add(node.Method);
            return base.VisitUnary(node);
        }

        protected override Expression VisitBinary(BinaryExpression node)
        {
            Tokens.Add(node.Method);
            Tokens.Add(node.IsLiftedToNull);
            return base.VisitBinary(node);
        }

        protected override Expression VisitTypeBinary(TypeBinaryExpression node)
        {
            Tokens.Add(node.TypeOperand);
            return base.VisitTypeBinary(node);
        }

        protected override Expression VisitLambda<T>(Expression<T> node)
        {
            Tokens.Add(node.Parameters.Count);
            return base.VisitLambda(node);
        }

        protected override Expression VisitNewArray(NewArrayExpression node)
        {
            Tokens.Add(node.Expressions.Count);
            return base.VisitNewArray(node);
        }

        protected override Expression VisitIndex(IndexExpression node)
        {
            Tokens.Add(node.Indexer);
            return base.VisitIndex(node);
        }

        protected override MemberBinding VisitMemberBinding(MemberBinding node)
        {
            Tokens.Add(node.BindingType);
            Tokens.Add(node.Member);
            return base.VisitMemberBinding(node);
        }

        protected override ElementInit VisitElementInit(ElementInit node)
        {
            Tokens.Add(node.AddMethod);
            Tokens.Add(node.Arguments.Count);
            return base.VisitElementInit(node);
        }

        private void Lift(object value)
        {
            if (!_lifted.TryGetValue(value, out int index))
            {
                index = Lifted.Count;
                _lifted[value] = index;
                Lifted.Add(value);
            }

            Tokens.Add("lifted");
            Tokens.Add(value.GetType());
            Tokens.Add(index);
        }
    }
}
