using System.Linq.Expressions;
using System.Reflection;

namespace LinqStream.Query.Preprocessing;

/// <summary>
/// Rewrites two group shapes into the one the translator knows, <c>GroupBy(key).[Where(having)].Select(selector)</c>:
/// a group with an element selector (<c>group e.Price by e.Auction</c>), and a group flattened by <c>SelectMany</c>.
/// </summary>
/// <remarks>
/// <para>
/// Element selector. Before: <c>GroupBy(k, e =&gt; e.Price).Select(g =&gt; g.Sum())</c>. After:
/// <c>GroupBy(k).Select(g =&gt; g.Select(e =&gt; e.Price).Sum())</c>: the group's key and window are read as they are, and every use
/// of its elements goes through the selector, so each aggregate is recognised exactly as if it had been written that way.
/// </para>
/// <para>
/// Flattening. Before: <c>GroupBy(k).SelectMany(g =&gt; g.OrderBy(e =&gt; e.L).Take(2), (g, e) =&gt; r)</c>. After:
/// <c>GroupBy(k).Select(g =&gt; g.OrderBy(e =&gt; e.L).Take(2).Select(e =&gt; r).ToArray()).SelectMany(a =&gt; a)</c>: one aggregate per
/// (window, key) gives the group's sequence when the window closes (bounded when the sequence is, e.g. top-k; buffered
/// otherwise, which strict mode refuses), and a stateless <c>SelectMany</c> flattens it with the window's lifetime.
/// </para>
/// </remarks>
internal sealed class GroupShapeRewriter : SharingExpressionVisitor
{
    private static readonly MethodInfo[] s_methods = typeof(QStream).GetMethods(BindingFlags.Public | BindingFlags.Static);

    private static readonly MethodInfo s_groupBy = s_methods.Single(m => m.Name == nameof(QStream.GroupBy) && m.GetParameters().Length == 2);
    private static readonly MethodInfo s_groupByElement = s_methods.Single(m => m.Name == nameof(QStream.GroupBy) && m.GetParameters().Length == 3);
    private static readonly MethodInfo s_select = StreamMethod(nameof(QStream.Select), 2);
    private static readonly MethodInfo s_where = StreamMethod(nameof(QStream.Where), 2);
    private static readonly MethodInfo s_selectMany = StreamMethod(nameof(QStream.SelectMany), 2);
    private static readonly MethodInfo s_selectManyResult = StreamMethod(nameof(QStream.SelectMany), 3);

    // The element selector of each rewritten group stream (GroupBy(k) and any Where over it), by the rewritten node.
    private readonly Dictionary<Expression, LambdaExpression> _elements = new(ReferenceEqualityComparer.Instance);

    /// <summary>Rewrites the group shapes of <paramref name="query"/>.</summary>
    public static Expression Process(Expression query) => new GroupShapeRewriter().Visit(query)!;

    protected override Expression VisitMethodCall(MethodCallExpression node)
    {
        if (node.Method.DeclaringType != typeof(QStream) || !node.Method.IsGenericMethod)
        {
            return base.VisitMethodCall(node);
        }

        var definition = node.Method.GetGenericMethodDefinition();
        if (definition == s_groupByElement)
        {
            // GroupBy(k, el) → GroupBy(k), remembering el for the lambdas that read the groups.
            var types = node.Method.GetGenericArguments(); // T, TKey, TElement
            var grouped = Expression.Call(s_groupBy.MakeGenericMethod(types[0], types[1]), Visit(node.Arguments[0])!, node.Arguments[1]);
            _elements[grouped] = QuotedLambda.Of(node.Arguments[2]);
            return grouped;
        }

        if (node.Arguments.Count == 0 || GroupElementType(node.Arguments[0].Type) is null)
        {
            return base.VisitMethodCall(node);
        }

        // An operator over a stream of groups: its lambdas read the groups, so they change with the groups' type.
        var source = Visit(node.Arguments[0])!;
        _elements.TryGetValue(source, out var element);
        if (definition == s_selectMany || definition == s_selectManyResult)
        {
            return Flatten(node, source, element);
        }

        if (element is null)
        {
            return node.Update(null, [source, .. node.Arguments.Skip(1)]);
        }

        if (definition == s_where)
        {
            var having = Regroup(QuotedLambda.Of(node.Arguments[1]), element, 1);
            var filtered = Expression.Call(s_where.MakeGenericMethod(having.Parameters[0].Type), source, Expression.Quote(having));
            _elements[filtered] = element;
            return filtered;
        }

        if (definition == s_select)
        {
            var selector = Regroup(QuotedLambda.Of(node.Arguments[1]), element, 1);
            return Expression.Call(s_select.MakeGenericMethod(selector.Parameters[0].Type, selector.ReturnType), source, Expression.Quote(selector));
        }

        throw new QueryTranslationException(
            $"'{node.Method.Name}' over the groups of a 'group ... by' with an element selector ('{element}') does not translate. " +
            "Follow the grouping with 'select' (or 'where' then 'select'), or group the events themselves: 'group e by key'.");
    }

    /// <summary><c>groups.SelectMany(g =&gt; c[, (g, x) =&gt; r])</c> → <c>groups.Select(g =&gt; c[.Select(x =&gt; r)].ToArray()).SelectMany(a =&gt; a)</c>.</summary>
    private static MethodCallExpression Flatten(MethodCallExpression call, Expression source, LambdaExpression? element)
    {
        var collection = QuotedLambda.Of(call.Arguments[1]);
        if (element is not null)
        {
            collection = Regroup(collection, element, 1);
        }

        var g = collection.Parameters[0];
        var sequence = collection.Body;
        var item = call.Method.GetGenericArguments()[1]; // TResult of SelectMany(g => c), TCollection of SelectMany(g => c, (g, x) => r)
        if (call.Arguments.Count == 3)
        {
            var result = QuotedLambda.Of(call.Arguments[2]);
            if (element is not null)
            {
                result = Regroup(result, element, 2);
            }

            // (g, x) => r: g becomes the outer lambda's group, x the element of the inner Select.
            var x = Expression.Parameter(item, result.Parameters[1].Name);
            var body = Internal.LambdaInliner.Inline(result, g, x);
            var project = Expression.Lambda(body, x);
            sequence = Expression.Call(typeof(Enumerable), nameof(Enumerable.Select), [item, body.Type], Convert(sequence, item), project);
            item = body.Type;
        }

        var array = Expression.Call(typeof(Enumerable), nameof(Enumerable.ToArray), [item], Convert(sequence, item));
        var perGroup = Expression.Call(s_select.MakeGenericMethod(g.Type, array.Type), source, Expression.Quote(Expression.Lambda(array, g)));
        var a = Expression.Parameter(array.Type, "group");
        var identity = Expression.Lambda(Expression.Convert(a, typeof(IEnumerable<>).MakeGenericType(item)), a);
        return Expression.Call(s_selectMany.MakeGenericMethod(array.Type, item), perGroup, Expression.Quote(identity));
    }

    /// <summary>Rewrites a lambda whose parameter <paramref name="index"/>-1 is a group with an element selector into one over the plain group.</summary>
    private static LambdaExpression Regroup(LambdaExpression lambda, LambdaExpression element, int index)
    {
        var old = lambda.Parameters[index - 1];
        var keyType = old.Type.GetGenericArguments()[0];
        var groupType = typeof(IWindowGroup<,>).MakeGenericType(keyType, element.Parameters[0].Type);
        var plain = Expression.Parameter(groupType, old.Name);
        Expression body;
        try
        {
            body = new ElementSubstitution(old, plain, element).Visit(lambda.Body)!;
        }
        catch (ArgumentException)
        {
            throw new QueryTranslationException(
                $"The group '{old.Name}' of a 'group ... by' with an element selector ('{element}') is used as a whole in '{lambda}'. " +
                $"Use only its Key, its Window and its elements (aggregates such as {old.Name}.Sum()), or group the events themselves: 'group e by key' and select inside.");
        }

        var parameters = lambda.Parameters.ToArray();
        parameters[index - 1] = plain;
        return Expression.Lambda(body, parameters);
    }

    private static Expression Convert(Expression sequence, Type item)
    {
        var enumerable = typeof(IEnumerable<>).MakeGenericType(item);
        return sequence.Type == enumerable ? sequence : Expression.Convert(sequence, enumerable);
    }

    private static Type? GroupElementType(Type stream) =>
        stream.IsGenericType && stream.GetGenericTypeDefinition() == typeof(IQStream<>)
        && stream.GetGenericArguments()[0] is { IsGenericType: true } group && group.GetGenericTypeDefinition() == typeof(IWindowGroup<,>)
            ? group.GetGenericArguments()[1]
            : null;

    private static MethodInfo StreamMethod(string name, int parameters) => s_methods.Single(m =>
        m.Name == name && m.GetParameters().Length == parameters && m.GetParameters()[0].ParameterType.GetGenericTypeDefinition() == typeof(IQStream<>));

    /// <summary>Replaces a group with an element selector by the plain group: Key and Window as they are, the elements through the selector.</summary>
    private sealed class ElementSubstitution(ParameterExpression old, ParameterExpression plain, LambdaExpression element) : ExpressionVisitor
    {
        protected override Expression VisitMember(MemberExpression node)
        {
            if (node.Expression == old && node.Member.Name is nameof(IWindowGroup<int, int>.Key) or nameof(IWindow<int>.Window))
            {
                return Expression.Property(plain, node.Member.Name == nameof(IWindow<int>.Window) ? typeof(IWindow<>).MakeGenericType(element.Parameters[0].Type).GetProperty(nameof(IWindow<int>.Window))! : plain.Type.GetProperty(nameof(IWindowGroup<int, int>.Key))!);
            }

            return base.VisitMember(node);
        }

        protected override Expression VisitParameter(ParameterExpression node) =>
            node == old
                ? Expression.Call(typeof(Enumerable), nameof(Enumerable.Select), [element.Parameters[0].Type, element.ReturnType], plain, element)
                : node;
    }
}
