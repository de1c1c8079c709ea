using System.Linq.Expressions;

namespace LinqStream.Query.Preprocessing;

/// <summary>
/// A rewriter that visits each node once: a sub-query used twice must stay one object after rewriting, so that the
/// translator still shares its plan node (the preprocessing rewriters derive from it).
/// </summary>
internal abstract class SharingExpressionVisitor : ExpressionVisitor
{
    private readonly Dictionary<Expression, Expression> _done = new(ReferenceEqualityComparer.Instance);

    public override Expression? Visit(Expression? node)
    {
        if (node is null)
        {
            return null;
        }

        if (!_done.TryGetValue(node, out var result))
        {
            result = base.Visit(node);
            _done[node] = result;
        }

        return result;
    }
}
