using System.Linq.Expressions;

namespace LinqStream.Runtime.Ingress;

/// <summary>How an ingress computes lifetimes: an event-time selector and, optionally, an end-time selector.</summary>
internal sealed class EventTime<T>
{
    private readonly DeferredKernel<Action<T[], ulong[]?, long[], int>> _start;
    private readonly DeferredKernel<Action<T[], ulong[]?, long[], int>>? _end;

    /// <summary>Initializes from the selectors (for printing) and their compiled column kernels (see <c>Physical.Ingress.EventTimeKernel</c>).</summary>
    public EventTime(LambdaExpression start, LambdaExpression? end, Action<T[], ulong[]?, long[], int> startKernel, Action<T[], ulong[]?, long[], int>? endKernel)
        : this(start, end, new DeferredKernel<Action<T[], ulong[]?, long[], int>>(startKernel), endKernel is null ? null : new DeferredKernel<Action<T[], ulong[]?, long[], int>>(endKernel))
    {
    }

    /// <summary>Initializes from the selectors (for printing) and their column kernels, compiled already or when first used.</summary>
    public EventTime(LambdaExpression start, LambdaExpression? end, DeferredKernel<Action<T[], ulong[]?, long[], int>> startKernel, DeferredKernel<Action<T[], ulong[]?, long[], int>>? endKernel)
    {
        StartSelector = start;
        EndSelector = end;
        _start = startKernel;
        _end = endKernel;
    }

    /// <summary>Compiles the kernels now unless they are compiled already.</summary>
    public void Compile()
    {
        _start.Compile();
        _end?.Compile();
    }

    public LambdaExpression StartSelector { get; }

    public LambdaExpression? EndSelector { get; }

    /// <summary>
    /// When the items' start times never decrease: where to cut them into chunks of about <paramref name="chunk"/> items, each
    /// cut between two different start times (so events on one tick stay in one chunk); null when they are out of order or
    /// the selector throws (the ingress then reports that event when it reads it). Read with the start kernel, a chunk at a time.
    /// </summary>
    public List<int>? ChunksInStartOrder(T[] items, int chunk)
    {
        var payload = new T[chunk];
        var start = new long[chunk];
        var bounds = new List<int> { 0 };
        long last = long.MinValue;
        int nextCut = chunk;
        var kernel = _start.Kernel;
        try
        {
            for (int offset = 0; offset < items.Length; offset += chunk)
            {
                int n = Math.Min(chunk, items.Length - offset);
                Array.Copy(items, offset, payload, 0, n);
                kernel(payload, null, start, n);
                for (int i = 0; i < n; i++)
                {
                    if (start[i] < last)
                    {
                        return null;
                    }

                    if (offset + i >= nextCut && start[i] != last)
                    {
                        bounds.Add(offset + i);
                        nextCut = offset + i + chunk;
                    }

                    last = start[i];
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return null;
        }

        return bounds;
    }

    /// <summary>Fills <c>Start</c> and <c>End</c> of the first <paramref name="count"/> events from their payloads.</summary>
    public void Fill(EventBatch<T> batch, int count)
    {
        _start.Kernel(batch.Payload, null, batch.Start, count);
        if (_end is null)
        {
            TickColumns.FillPointEnds(batch.Start.AsSpan(0, count), batch.End);
            return;
        }

        _end.Kernel(batch.Payload, null, batch.End, count);
        // An end at or before the start would make an event that is never alive: keep it alive one tick.
        TickColumns.KeepAliveOneTick(batch.Start.AsSpan(0, count), batch.End);
    }
}
