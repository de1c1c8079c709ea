using System.Runtime.CompilerServices;

namespace LinqStream.Physical.Join;

/// <summary>
/// The walk of one run of a buffered join's input (<c>BufferedJoinOperator</c>): the events of the head batch from its cursor up to
/// start <c>bound</c> (inclusive) that are present and have a non-empty lifetime, one <see cref="MoveNext"/> each.
/// </summary>
/// <remarks>
/// Each operator writes its own loop over a run (<c>ProcessLeftRun</c>/<c>ProcessRightRun</c>), calling its own methods per event,
/// which the JIT inlines there; this struct is the part of that loop they share. It is not generic, so it inlines into the
/// operators' loops in code shared over reference types too (issue #19: when the loop was one generic method calling a step struct
/// per event, the step's methods were reached through a generic-dictionary lookup and two indirect calls per event, never inlined).
/// </remarks>
internal ref struct JoinRun
{
    private readonly long[] _start;
    private readonly long[] _end;
    private readonly ulong[] _absent;
    private readonly int _count;
    private readonly long _bound;
    private int _next;

    public JoinRun(long[] start, long[] end, ulong[] absent, int count, int from, long bound)
    {
        _start = start;
        _end = end;
        _absent = absent;
        _count = count;
        _bound = bound;
        _next = from;
    }

    /// <summary>Gets the position in the batch of the current event.</summary>
    public int Index { readonly get; private set; }

    /// <summary>Gets the current event's start.</summary>
    public long Start { readonly get; private set; }

    /// <summary>Gets the current event's end (after <see cref="Start"/>).</summary>
    public long End { readonly get; private set; }

    /// <summary>Gets where the input's cursor goes once <see cref="MoveNext"/> returned false: the first event the run did not process.</summary>
    public readonly int Stop => _next;

    /// <summary>Moves to the next present event with a non-empty lifetime; false at the first event that starts after the bound, or at the batch's end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool MoveNext()
    {
        for (int i = _next; i < _count; i++)
        {
            if ((_absent[i >> 6] & (1UL << i)) != 0)
            {
                continue;
            }

            long s = _start[i];
            if (s > _bound)
            {
                _next = i;
                return false;
            }

            long e = _end[i];
            if (e <= s)
            {
                continue;
            }

            Index = i;
            Start = s;
            End = e;
            _next = i + 1;
            return true;
        }

        _next = _count;
        return false;
    }
}
