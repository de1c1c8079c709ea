using System.Linq.Expressions;
using LinqStream.Physical.Kernels;

namespace LinqStream.Physical.Join;

/// <summary>Compiles a join's result selector into one loop over columns of matched pairs.</summary>
/// <remarks>
/// The operator collects matched pairs into two arrays as it probes, then builds a whole batch of results at once:
/// <code>for (i = 0; i &lt; count; i++) output[i] = selector(left[i], right[i]);</code>
/// with the selector inlined, so there is no delegate call per match.
/// </remarks>
internal static class JoinResultKernel
{
    /// <summary>Compiles <c>(left, right, output, count)</c> for <paramref name="resultSelector"/> <c>(TLeft, TRight) =&gt; TResult</c>.</summary>
    public static Action<TLeft[], TRight[], TResult[], int> Compile<TLeft, TRight, TResult>(LambdaExpression resultSelector, KernelCompiler? kernels = null) =>
        (kernels ?? KernelCompiler.Shared).Compile(new KernelRecipe(nameof(JoinResultKernel), 0, [resultSelector]), () => Build<TLeft, TRight, TResult>(resultSelector));

    private static Expression<Action<TLeft[], TRight[], TResult[], int>> Build<TLeft, TRight, TResult>(LambdaExpression resultSelector)
    {
        var left = Expression.Parameter(typeof(TLeft[]), "left");
        var right = Expression.Parameter(typeof(TRight[]), "right");
        var output = Expression.Parameter(typeof(TResult[]), "output");
        var count = Expression.Parameter(typeof(int), "count");
        var i = Expression.Variable(typeof(int), "i");

        var value = Internal.LambdaInliner.Inline(resultSelector, Expression.ArrayIndex(left, i), Expression.ArrayIndex(right, i));
        if (value.Type != typeof(TResult))
        {
            value = Expression.Convert(value, typeof(TResult));
        }

        var loop = KernelBuilder.For(i, count, _ => Expression.Assign(Expression.ArrayAccess(output, i), value));
        return Expression.Lambda<Action<TLeft[], TRight[], TResult[], int>>(Expression.Block([i], loop), left, right, output, count);
    }

    /// <summary>The selector <c>(left, right) =&gt; left</c> of the anti-join, whose results are its left events.</summary>
    public static LambdaExpression LeftItself<TLeft, TRight>()
    {
        var left = Expression.Parameter(typeof(TLeft), "left");
        var right = Expression.Parameter(typeof(TRight), "right");
        return Expression.Lambda(left, left, right);
    }
}
