using System.Numerics;

namespace LinqStream.Runtime.Ingress;

/// <summary>The ingress's passes over a batch's tick columns, a vector of ticks at a time.</summary>
/// <remarks>
/// Both passes used to be plain per-event loops after the event-time kernel; on NEXMark's stream they were a measurable part of
/// the ingress (issue #19: q8's profile put the ingress at a third of the query). The columns are in L1 when these run, so a pass of
/// 2,048 ticks is a few hundred vector instructions.
/// </remarks>
internal static class TickColumns
{
    /// <summary>Writes the end of point events: <c>end[i] = start[i] + 1</c>, except that the end of time stays the end of time.</summary>
    public static void FillPointEnds(ReadOnlySpan<long> start, Span<long> end)
    {
        end = end[..start.Length];
        int i = 0;
        if (Vector.IsHardwareAccelerated && start.Length >= Vector<long>.Count)
        {
            for (int last = start.Length - Vector<long>.Count; i <= last; i += Vector<long>.Count)
            {
                PointEnd(new Vector<long>(start[i..])).CopyTo(end[i..]);
            }
        }

        for (; i < start.Length; i++)
        {
            end[i] = PointEnd(start[i]);
        }
    }

    /// <summary>Replaces every end at or before its start (an event never alive) by the point event's end, so it lives one tick.</summary>
    public static void KeepAliveOneTick(ReadOnlySpan<long> start, Span<long> end)
    {
        end = end[..start.Length];
        int i = 0;
        if (Vector.IsHardwareAccelerated && start.Length >= Vector<long>.Count)
        {
            for (int last = start.Length - Vector<long>.Count; i <= last; i += Vector<long>.Count)
            {
                var s = new Vector<long>(start[i..]);
                var e = new Vector<long>(end[i..]);
                Vector.ConditionalSelect(Vector.LessThanOrEqual(e, s), PointEnd(s), e).CopyTo(end[i..]);
            }
        }

        for (; i < start.Length; i++)
        {
            if (end[i] <= start[i])
            {
                end[i] = PointEnd(start[i]);
            }
        }
    }

    private static long PointEnd(long start) => start == long.MaxValue ? long.MaxValue : start + 1;

    // A lane equal to the end of time compares as -1 (all bits set): start + 1 - 1 there, start + 1 everywhere else.
    private static Vector<long> PointEnd(Vector<long> start) => start + Vector<long>.One + Vector.Equals(start, new Vector<long>(long.MaxValue));

    /// <summary>
    /// Whether no tick is below <paramref name="floor"/> and none below the one before it: then every event of the column is in
    /// order and none is late, and the ingress sends the batch on without looking at each event.
    /// </summary>
    public static bool IsInOrderFrom(ReadOnlySpan<long> start, long floor)
    {
        if (start.IsEmpty)
        {
            return true;
        }

        if (start[0] < floor)
        {
            return false;
        }

        int i = 0;
        if (Vector.IsHardwareAccelerated && start.Length > Vector<long>.Count)
        {
            // Each lane compares a tick with the one after it: the vector at i against the vector at i + 1.
            for (int last = start.Length - 1 - Vector<long>.Count; i <= last; i += Vector<long>.Count)
            {
                if (Vector.LessThanAny(new Vector<long>(start[(i + 1)..]), new Vector<long>(start[i..])))
                {
                    return false;
                }
            }
        }

        for (; i < start.Length - 1; i++)
        {
            if (start[i + 1] < start[i])
            {
                return false;
            }
        }

        return true;
    }
}
