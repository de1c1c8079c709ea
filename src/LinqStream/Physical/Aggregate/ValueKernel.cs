using System.Linq.Expressions;
using LinqStream.Physical.Kernels;

namespace LinqStream.Physical.Aggregate;

/// <summary>What an aggregate reads from each event: an optional filter and an optional value, both over the payload.</summary>
/// <param name="Filter">Events for which this is false are skipped (from <c>g.Where(p)</c>, <c>Count(p)</c>, <c>All(p)</c>).</param>
/// <param name="Value">The value folded (from <c>Sum(f)</c>, <c>g.Select(f)</c>); null for counts.</param>
internal sealed record AggregateInput(LambdaExpression? Filter, LambdaExpression? Value)
{
    public override string ToString() =>
        (Filter is null ? string.Empty : "where " + Filter + (Value is null ? string.Empty : ", ")) + (Value?.ToString() ?? string.Empty);
}

/// <summary>Compiles <c>include[i] = present(i) &amp;&amp; filter(p[i]); if (include[i]) values[i] = value(p[i])</c> into one loop.</summary>
internal static class ValueKernel
{
    public static Action<T[], ulong[]?, TValue[], bool[], int> Compile<T, TValue>(AggregateInput input, KernelCompiler kernels)
    {
        // Flags: bit 0 a filter, bit 1 a value; the parts are the ones present, in that order.
        var recipe = (input.Filter, input.Value) switch
        {
            (null, null) => new KernelRecipe(nameof(ValueKernel), 0, []),
            ({ } filter, null) => new KernelRecipe(nameof(ValueKernel), 1, [filter]),
            (null, { } value) => new KernelRecipe(nameof(ValueKernel), 2, [value]),
            ({ } filter, { } value) => new KernelRecipe(nameof(ValueKernel), 3, [filter, value]),
        };
        return kernels.Compile(recipe, () => Build<T, TValue>(input));
    }

    private static Expression<Action<T[], ulong[]?, TValue[], bool[], int>> Build<T, TValue>(AggregateInput input)
    {
        var payload = Expression.Parameter(typeof(T[]), "payload");
        var absent = Expression.Parameter(typeof(ulong[]), "absent");
        var values = Expression.Parameter(typeof(TValue[]), "values");
        var include = Expression.Parameter(typeof(bool[]), "include");
        var count = Expression.Parameter(typeof(int), "count");
        var i = Expression.Variable(typeof(int), "i");
        var item = Expression.Variable(typeof(T), "item");

        var loop = KernelBuilder.For(i, count, @continue =>
        {
            var excluded = Expression.Block(Expression.Assign(Expression.ArrayAccess(include, i), Expression.Constant(false)), Expression.Continue(@continue));
            var steps = new List<Expression>
            {
                Expression.IfThen(KernelBuilder.IsAbsent(absent, i), excluded),
                Expression.Assign(item, Expression.ArrayIndex(payload, i)),
            };
            if (input.Filter is not null)
            {
                steps.Add(Expression.IfThen(Expression.Not(Internal.LambdaInliner.Inline(input.Filter, item)), excluded));
            }

            steps.Add(Expression.Assign(Expression.ArrayAccess(include, i), Expression.Constant(true)));
            if (input.Value is not null)
            {
                Expression value = Internal.LambdaInliner.Inline(input.Value, item);
                if (value.Type != typeof(TValue))
                {
                    value = Expression.Convert(value, typeof(TValue));
                }

                steps.Add(Expression.Assign(Expression.ArrayAccess(values, i), value));
            }

            return Expression.Block(steps);
        });

        return Expression.Lambda<Action<T[], ulong[]?, TValue[], bool[], int>>(Expression.Block([i, item], loop), payload, absent, values, include, count);
    }
}
