using System.Linq.Expressions;

namespace LinqStream.Query;

/// <summary>The lambda of a LINQ method's argument, which the compiler quotes (<c>Quote(x => ...)</c>) in a query expression.</summary>
internal static class QuotedLambda
{
    /// <summary>The lambda inside any quotes of <paramref name="argument"/>.</summary>
    /// <exception cref="InvalidCastException"><paramref name="argument"/> is not a (quoted) lambda.</exception>
    public static LambdaExpression Of(Expression argument)
    {
        while (argument is UnaryExpression { NodeType: ExpressionType.Quote } quote)
        {
            argument = quote.Operand;
        }

        return (LambdaExpression)argument;
    }
}
