using System.Linq.Expressions;
using LinqStream.Physical.Kernels;

namespace LinqStream.Physical.SelectMany;

/// <summary>Compiles the user's <c>TIn =&gt; IEnumerable&lt;TOut&gt;</c> (or an array or list of <c>TOut</c>) once per query.</summary>
internal static class SelectManyKernel
{
    public static Func<TIn, IEnumerable<TOut>> Compile<TIn, TOut>(LambdaExpression selector, KernelCompiler? kernels = null)
    {
        kernels ??= KernelCompiler.Shared;
        if (selector.Parameters.Count != 1 || selector.Parameters[0].Type != typeof(TIn) || !typeof(IEnumerable<TOut>).IsAssignableFrom(selector.ReturnType))
        {
            throw new ArgumentException($"The selector '{selector}' must map {typeof(TIn).Name} to a sequence of {typeof(TOut).Name}.", nameof(selector));
        }

        return kernels.Compile(new KernelRecipe(nameof(SelectManyKernel), 0, [selector]), () => Build<TIn, TOut>(selector));
    }

    private static Expression<Func<TIn, IEnumerable<TOut>>> Build<TIn, TOut>(LambdaExpression selector)
    {
        Expression body = selector.Body;
        if (body.Type != typeof(IEnumerable<TOut>))
        {
            body = Expression.Convert(body, typeof(IEnumerable<TOut>));
        }

        return Expression.Lambda<Func<TIn, IEnumerable<TOut>>>(body, selector.Parameters);
    }
}
