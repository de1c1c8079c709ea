using System.Linq.Expressions;
using System.Reactive.Linq;
using System.Reflection;

namespace LinqStream.Query.Preprocessing;

/// <summary>
/// Makes the upcasts of a covariant <see cref="IQStream{T}"/> explicit: where a stream of <c>string</c> is passed as a stream of
/// <c>object</c>, the argument becomes <c>stream.Select(x =&gt; (object)x)</c>, so every plan node's type is the element type its
/// operator was called with.
/// </summary>
/// <remarks>
/// Before: <c>Union&lt;object&gt;(From&lt;string&gt;(...), other)</c>. After: <c>Union&lt;object&gt;(From&lt;string&gt;(...).Select(x =&gt; (object)x), other)</c>.
/// A reference conversion costs nothing per event, and the projection is fused with its neighbours.
/// </remarks>
internal sealed class CovariantUpcastRewriter : SharingExpressionVisitor
{
    private static readonly MethodInfo s_select = typeof(QStream).GetMethods(BindingFlags.Public | BindingFlags.Static)
        .Single(m => m.Name == nameof(QStream.Select) && m.GetParameters()[0].ParameterType.GetGenericTypeDefinition() == typeof(IQStream<>));

    /// <summary>Rewrites <paramref name="query"/> so that it is a stream of exactly <paramref name="element"/>.</summary>
    public static Expression Process(Expression query, Type element)
    {
        var rewritten = new CovariantUpcastRewriter().Visit(query)!;
        return Upcast(rewritten, element) ?? rewritten;
    }

    protected override Expression VisitMethodCall(MethodCallExpression node)
    {
        var visited = (MethodCallExpression)base.VisitMethodCall(node);
        var parameters = visited.Method.GetParameters();
        Expression[]? arguments = null;
        for (int i = 0; i < parameters.Length; i++)
        {
            if (StreamElement(parameters[i].ParameterType) is { } expected && Upcast(visited.Arguments[i], expected) is { } cast)
            {
                arguments ??= [.. visited.Arguments];
                arguments[i] = cast;
            }
        }

        return arguments is null ? visited : visited.Update(visited.Object, arguments);
    }

    /// <summary><c>source.Select(x =&gt; (expected)x)</c> when <paramref name="source"/> is a stream of a subtype of <paramref name="expected"/>; otherwise null.</summary>
    private static MethodCallExpression? Upcast(Expression source, Type expected)
    {
        if (!source.Type.IsGenericType || source.Type.GetGenericTypeDefinition() != typeof(IQStream<>))
        {
            return null;
        }

        var actual = source.Type.GetGenericArguments()[0];
        if (actual == expected || actual.IsValueType || !expected.IsAssignableFrom(actual))
        {
            return null;
        }

        var x = Expression.Parameter(actual, "x");
        return Expression.Call(s_select.MakeGenericMethod(actual, expected), source, Expression.Quote(Expression.Lambda(Expression.Convert(x, expected), x)));
    }

    /// <summary>The element type of an <c>IQStream&lt;T&gt;</c> or <c>IQbservable&lt;T&gt;</c>, or null.</summary>
    private static Type? StreamElement(Type type) =>
        type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(IQStream<>) || type.GetGenericTypeDefinition() == typeof(IQbservable<>))
            ? type.GetGenericArguments()[0]
            : null;
}
