using System.Linq.Expressions;

namespace LinqStream.Physical.Kernels;

/// <summary>Pieces of generated batch loops: the loop itself, the filter-bit tests, and splicing of user lambdas.</summary>
/// <remarks>
/// A user's lambda is inlined into the loop body by replacing its parameter, so a compiled kernel makes no delegate call per
/// event. Compilation happens once per query, with <see cref="LambdaExpression.Compile()"/> (no C# compiler at run time).
/// </remarks>
internal static class KernelBuilder
{
    /// <summary><c>(absent[i &gt;&gt; 6] &amp; (1UL &lt;&lt; (i &amp; 63))) != 0</c>.</summary>
    public static Expression IsAbsent(Expression absent, Expression index) =>
        Expression.NotEqual(
            Expression.And(Word(absent, index), Bit(index)),
            Expression.Constant(0UL));

    /// <summary><c>absent[i &gt;&gt; 6] |= 1UL &lt;&lt; (i &amp; 63)</c>.</summary>
    public static Expression SetAbsent(Expression absent, Expression index) =>
        Expression.OrAssign(Word(absent, index), Bit(index));

    private static IndexExpression Word(Expression absent, Expression index) =>
        Expression.ArrayAccess(absent, Expression.RightShift(index, Expression.Constant(6)));

    // IL's shl on 64 bits is undefined past 63, so mask the count as C# does.
    private static BinaryExpression Bit(Expression index) =>
        Expression.LeftShift(Expression.Constant(1UL), Expression.And(index, Expression.Constant(63)));

    /// <summary><c>for (i = 0; i &lt; count; i++) { body(i, continueLabel) }</c>.</summary>
    public static Expression For(ParameterExpression index, Expression count, Func<LabelTarget, Expression> body)
    {
        var @break = Expression.Label("break");
        var @continue = Expression.Label("continue");
        return Expression.Block(
            Expression.Assign(index, Expression.Constant(0)),
            Expression.Loop(
                Expression.Block(
                    Expression.IfThen(Expression.GreaterThanOrEqual(index, count), Expression.Break(@break)),
                    body(@continue),
                    Expression.Label(@continue),
                    Expression.PreIncrementAssign(index)),
                @break));
    }
}
