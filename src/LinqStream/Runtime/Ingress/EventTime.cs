using System.Linq.Expressions;

namespace LinqStream.Runtime.Ingress;

/// <summary>How an ingress computes lifetimes: an event-time selector and, optionally, an end-time selector.</summary>
internal sealed class EventTime<T>
{
    private readonly Action<T[], ulong[]?, long[], int> _start;
    private readonly Action<T[], ulong[]?, long[], int>? _end;

    /// <summary>Initializes from the selectors (for printing) and their compiled column kernels (see <c>Physical.Ingress.EventTimeKernel</c>).</summary>
    public EventTime(LambdaExpression start, LambdaExpression? end, Action<T[], ulong[]?, long[], int> startKernel, Action<T[], ulong[]?, long[], int>? endKernel)
    {
        StartSelector = start;
        EndSelector = end;
        _start = startKernel;
        _end = endKernel;
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
}
