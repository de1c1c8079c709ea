using System.Linq.Expressions;
using LinqStream.Physical.Kernels;
using LinqStream.Temporal;

namespace LinqStream.Runtime.Ingress;

/// <summary>How an ingress computes lifetimes: an event-time selector and, optionally, an end-time selector.</summary>
internal sealed class EventTime<T>
{
    private readonly Action<T[], ulong[]?, long[], int> _start;
    private readonly Action<T[], ulong[]?, long[], int>? _end;

    public EventTime(LambdaExpression start, LambdaExpression? end)
    {
        StartSelector = start;
        EndSelector = end;
        _start = ColumnKernel.Compile<T, long>(ToTicks(start));
        _end = end is null ? null : ColumnKernel.Compile<T, long>(ToTicks(end));
    }

    public LambdaExpression StartSelector { get; }

    public LambdaExpression? EndSelector { get; }

    /// <summary>Fills <c>Start</c> and <c>End</c> of the first <paramref name="count"/> events from their payloads.</summary>
    public void Fill(EventBatch<T> batch, int count)
    {
        _start(batch.Payload, null, batch.Start, count);
        var start = batch.Start;
        var end = batch.End;
        if (_end is null)
        {
            for (int i = 0; i < count; i++)
            {
                end[i] = start[i] == long.MaxValue ? long.MaxValue : start[i] + 1;
            }

            return;
        }

        _end(batch.Payload, null, end, count);
        for (int i = 0; i < count; i++)
        {
            // An end at or before the start would make an event that is never alive: keep it alive one tick.
            if (end[i] <= start[i])
            {
                end[i] = start[i] == long.MaxValue ? long.MaxValue : start[i] + 1;
            }
        }
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
