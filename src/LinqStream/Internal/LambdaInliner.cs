using System.Linq.Expressions;

namespace LinqStream.Internal;

/// <summary>Splices a lambda's body where its call would be, with its parameters replaced by the given arguments.</summary>
/// <remarks>Used by translation (to compose selectors) and by kernel generation (to put a user's lambda inside a batch loop).</remarks>
internal static class LambdaInliner
{
    /// <summary>Inlines <paramref name="lambda"/> with its parameters bound to <paramref name="arguments"/>.</summary>
    public static Expression Inline(LambdaExpression lambda, params Expression[] arguments)
    {
        var body = lambda.Body;
        for (int i = 0; i < arguments.Length; i++)
        {
            body = new ParameterReplacer(lambda.Parameters[i], arguments[i]).Visit(body);
        }

        return body;
    }

    private sealed class ParameterReplacer(ParameterExpression from, Expression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : node;
    }
}
