using System.Linq.Expressions;
using LinqStream.Physical.Kernels;
using LinqStream.Runtime;
using LinqStream.Runtime.Ingress;
using LinqStream.Temporal;

namespace LinqStream.Physical.Ingress;

/// <summary>Compiles an ingress's event-time selectors into the column kernels an <see cref="EventTime{T}"/> runs.</summary>
internal static class EventTimeKernel
{
    /// <summary>Compiles <paramref name="start"/> (and <paramref name="end"/>, when given) into tick columns.</summary>
    public static EventTime<T> Compile<T>(LambdaExpression start, LambdaExpression? end, KernelCompiler? kernels = null) =>
        new(start, end, ColumnKernel.Compile<T, long>(ForKernel(start), kernels ?? KernelCompiler.Shared), end is null ? null : ColumnKernel.Compile<T, long>(ForKernel(end), kernels ?? KernelCompiler.Shared));

    /// <summary>
    /// The same kernels, compiled when first used (<see cref="DeferredKernel{TDelegate}"/>): for an ingress whose consumer reads
    /// the replayed array itself with the times in its own kernel, so that these run only for a slice that falls back.
    /// </summary>
    public static EventTime<T> Defer<T>(LambdaExpression start, LambdaExpression? end, KernelCompiler kernels) =>
        new(
            start,
            end,
            new DeferredKernel<Action<T[], ulong[]?, long[], int>>(() => ColumnKernel.Compile<T, long>(ForKernel(start), kernels)),
            end is null ? null : new DeferredKernel<Action<T[], ulong[]?, long[], int>>(() => ColumnKernel.Compile<T, long>(ForKernel(end), kernels)));

    /// <summary>
    /// <see cref="ToTicks"/> for a compiled kernel: a <see cref="DateTime"/> is read inline, <c>d.Kind == Local ? d.ToUniversalTime().Ticks
    /// : d.Ticks</c> (what <see cref="Ticks.From(DateTime)"/> computes), instead of a call to that internal method, which the JIT does
    /// not inline into an expression-compiled kernel: a call per event in every ingress (issue #19, q0's profile: 4 % of the query).
    /// </summary>
    public static LambdaExpression ForKernel(LambdaExpression selector)
    {
        if (selector.Body.Type != typeof(DateTime))
        {
            return ToTicks(selector);
        }

        var d = Expression.Variable(typeof(DateTime), "d");
        var body = Expression.Block(
            typeof(long),
            [d],
            Expression.Assign(d, selector.Body),
            Expression.Condition(
                Expression.Equal(Expression.Property(d, nameof(DateTime.Kind)), Expression.Constant(DateTimeKind.Local)),
                Expression.Property(Expression.Call(d, nameof(DateTime.ToUniversalTime), Type.EmptyTypes), nameof(DateTime.Ticks)),
                Expression.Property(d, nameof(DateTime.Ticks))));
        return Expression.Lambda(body, selector.Parameters);
    }

    /// <summary>Rewrites a selector returning DateTimeOffset, DateTime or long into one returning ticks.</summary>
    public static LambdaExpression ToTicks(LambdaExpression selector)
    {
        var body = selector.Body;
        if (body.Type == typeof(long))
        {
            return selector;
        }

        Expression ticks = body.Type == typeof(DateTimeOffset) ? Expression.Property(body, nameof(DateTimeOffset.UtcTicks))
            : body.Type == typeof(DateTime) ? Expression.Call(typeof(Ticks).GetMethod(nameof(Ticks.From), [typeof(DateTime)])!, body)
            : body.Type == typeof(int) ? Expression.Convert(body, typeof(long))
            : throw new ArgumentException($"The event-time selector '{selector}' returns {body.Type.Name}; return a DateTimeOffset, a DateTime or long ticks.", nameof(selector));
        return Expression.Lambda(ticks, selector.Parameters);
    }
}
