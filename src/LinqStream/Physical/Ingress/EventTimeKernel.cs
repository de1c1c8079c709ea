using System.Linq.Expressions;
using LinqStream.Physical.Kernels;
using LinqStream.Runtime.Ingress;
using LinqStream.Temporal;

namespace LinqStream.Physical.Ingress;

/// <summary>Compiles an ingress's event-time selectors into the column kernels an <see cref="EventTime{T}"/> runs.</summary>
internal static class EventTimeKernel
{
    /// <summary>Compiles <paramref name="start"/> (and <paramref name="end"/>, when given) into tick columns.</summary>
    public static EventTime<T> Compile<T>(LambdaExpression start, LambdaExpression? end) =>
        new(start, end, ColumnKernel.Compile<T, long>(ToTicks(start)), end is null ? null : ColumnKernel.Compile<T, long>(ToTicks(end)));

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
