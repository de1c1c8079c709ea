using System.Linq.Expressions;
using LinqStream.Internal;

namespace LinqStream.Physical.Kernels;

/// <summary>Computes one column from the payload column: <c>output[i] = selector(payload[i])</c> for every present event.</summary>
/// <remarks>Used for event times at ingress, grouping and join keys, and the inputs of aggregates.</remarks>
internal static class ColumnKernel
{
    /// <summary>Compiles <c>(payload, absent, output, count)</c>; <c>absent</c> may be null when no event is filtered out.</summary>
    public static Action<T[], ulong[]?, TColumn[], int> Compile<T, TColumn>(LambdaExpression selector, KernelCompiler? kernels = null) =>
        (kernels ?? KernelCompiler.Shared).Compile(new KernelRecipe(nameof(ColumnKernel), 0, [selector]), () => Build<T, TColumn>(selector));

    private static Expression<Action<T[], ulong[]?, TColumn[], int>> Build<T, TColumn>(LambdaExpression selector)
    {
        var payload = Expression.Parameter(typeof(T[]), "payload");
        var absent = Expression.Parameter(typeof(ulong[]), "absent");
        var output = Expression.Parameter(typeof(TColumn[]), "output");
        var count = Expression.Parameter(typeof(int), "count");
        var i = Expression.Variable(typeof(int), "i");

        var value = LambdaInliner.Inline(selector, Expression.ArrayIndex(payload, i));
        if (value.Type != typeof(TColumn))
        {
            value = Expression.Convert(value, typeof(TColumn));
        }

        var assign = Expression.Assign(Expression.ArrayAccess(output, i), value);
        var withBits = KernelBuilder.ForPresent(i, absent, count, marksAbsent: false, (_, _) => assign);
        var withoutBits = KernelBuilder.For(i, count, _ => assign);
        var body = Expression.Block(
            [i],
            Expression.IfThenElse(Expression.Equal(absent, Expression.Constant(null, typeof(ulong[]))), withoutBits, withBits));
        return Expression.Lambda<Action<T[], ulong[]?, TColumn[], int>>(body, payload, absent, output, count);
    }
}
