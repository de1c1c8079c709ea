using System.Linq.Expressions;

namespace LinqStream.Query.Translation;

/// <summary>Folds <c>new { a = x, b = y }.a</c> into <c>x</c>: what is left of a query-syntax <c>let</c> once two selectors are composed.</summary>
/// <remarks>
/// Before: <c>g =&gt; new { h = new { g, c = g.Count() } }.h.g.Key</c>. After: <c>g =&gt; g.Key</c>. Only anonymous-type constructors
/// (a <see cref="NewExpression"/> that names its members) are folded; they have no side effects.
/// </remarks>
internal sealed class MemberOfNewFoldingRewriter : ExpressionVisitor
{
    private static readonly MemberOfNewFoldingRewriter Instance = new();

    public static Expression Fold(Expression expression) => Instance.Visit(expression);

    /// <summary>Whether <paramref name="body"/> is an anonymous object that carries <paramref name="group"/> itself (a <c>let</c> over a group).</summary>
    public static bool CarriesGroup(Expression body, ParameterExpression group) =>
        body == group || (body is NewExpression { Members: not null } created && created.Arguments.Any(a => CarriesGroup(a, group)));

    protected override Expression VisitMember(MemberExpression node)
    {
        var inner = Visit(node.Expression);
        if (inner is NewExpression { Members: { } members } created)
        {
            for (int i = 0; i < members.Count; i++)
            {
                if (SameMember(members[i], node.Member))
                {
                    return created.Arguments[i];
                }
            }
        }

        return node.Update(inner);
    }

    private static bool SameMember(System.Reflection.MemberInfo declared, System.Reflection.MemberInfo used) =>
        declared == used || (declared.Name == used.Name && declared.DeclaringType == used.DeclaringType)
        || (declared is System.Reflection.MethodInfo getter && used is System.Reflection.PropertyInfo property && property.GetMethod == getter);
}
