using System.Linq.Expressions;
using System.Reactive.Linq;
using System.Runtime.CompilerServices;
using LinqStream.Physical.Kernels;

namespace LinqStream.Query;

/// <summary>
/// The key of <see cref="PlanCache"/>: a query expression's shape (every node's kind, type, method and member, the result
/// type, and every constant by value) with its sources and closure objects lifted out as parameters (<see cref="Lifted"/>,
/// distinct, in the order the walk meets them; the key records where each one is used, so two uses of one closure stay one).
/// </summary>
internal sealed class QueryShape : IEquatable<QueryShape>
{
    private readonly KernelShape.ShapeKey _key;

    private QueryShape(KernelShape.ShapeKey key, IReadOnlyList<object> lifted)
    {
        _key = key;
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
        return walker.Unsupported ? null : new QueryShape(new KernelShape.ShapeKey([.. walker.Tokens]), walker.Lifted);
    }

    /// <summary>This key without the lifted objects, so the cache keeps no user data alive.</summary>
    public QueryShape WithoutLifted() => new(_key, []);

    public bool Equals(QueryShape? other) => other is not null && _key.Equals(other._key);

    public override bool Equals(object? obj) => Equals(obj as QueryShape);

    public override int GetHashCode() => _key.GetHashCode();

    /// <summary>The structure as every shape writes it (<see cref="ShapeWalker"/>); sources and closures lifted, other constants by value.</summary>
    private sealed class Walker : ShapeWalker
    {
        private readonly Dictionary<object, int> _lifted = new(ReferenceEqualityComparer.Instance);

        public List<object> Lifted { get; } = [];

        protected override Expression VisitMethodCall(MethodCallExpression node)
        {
            if (node.Method.DeclaringType == typeof(QStream) && node.Method.Name == nameof(QStream.From) && node.Arguments[0] is ConstantExpression { Value: { } source })
            {
                // The user's data: a parameter of the plan, whatever it holds.
                Tokens.Add(node.Method);
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
                    Tokens.Add(node.Value ?? NullToken);
                    break;
            }

            return node;
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
            Tokens.Add(Box(index));
        }
    }
}
