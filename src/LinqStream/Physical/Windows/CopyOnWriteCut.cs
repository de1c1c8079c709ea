using LinqStream.Physical.Aggregate;

namespace LinqStream.Physical.Windows;

/// <summary>
/// The copy on write at a checkpoint's cut of a spilled window aggregate (sessions, tumbling and hopping groups; docs/state.md,
/// "Copy on write at the cut"): the cut lists the hot groups as entries and stamps each one's slot with the cut's epoch and its
/// entry; a pool thread writes the entries after the store's second part, marking [0, written) done (<see cref="int.MaxValue"/> once
/// it has ended). Until its entry is written a stamped slot is not changed (an event moves its group to a copy, <see cref="Detach"/>)
/// nor freed (<see cref="Release"/> keeps it until the writer has ended).
/// </summary>
/// <typeparam name="T">The event type (of the slots' columns).</typeparam>
/// <typeparam name="TEntry">What the cut records of a group besides its accumulators (key, times, ...), with its slot.</typeparam>
/// <remarks>The query's thread calls everything but the writer's delegate, which runs on a pool thread; the slot allocator stays the
/// query's alone (frozen slots are released by <see cref="ReleaseFrozen"/>, on the query's thread). The check on the per-event path,
/// <see cref="IsFrozen"/>, is two array reads and a compare, and a volatile read only for a slot of the last cut.</remarks>
internal sealed class CopyOnWriteCut<T, TEntry>(SlotAllocator<T> slots, AggregateColumn<T>[] columns)
    where TEntry : struct
{
    private TEntry[] _entries = [];
    private int _count;
    private int _epoch;
    private int _written = int.MaxValue;
    private int[] _slotEpoch = [];
    private int[] _slotEntry = [];
    private readonly List<int> _frozen = [];

    /// <summary>Gets how many slots were copied because the query changed a group before its entry was written (tests, measurements).</summary>
    public long SlotsCopied { get; private set; }

    /// <summary>Gets how many slots are kept for the cut being written (they hold no group any more).</summary>
    public int KeptSlots => _frozen.Count;

    /// <summary>Whether <paramref name="slot"/> is frozen by the cut and its entry not yet written (a slot past the stamps was never stamped).</summary>
    public bool IsFrozen(int slot) =>
        (uint)slot < (uint)_slotEpoch.Length && _slotEpoch[slot] == _epoch && _slotEntry[slot] >= Volatile.Read(ref _written);

    /// <summary>A copy of a frozen slot for the query to go on in; the frozen one is freed once the cut is written.</summary>
    public int Detach(int frozen)
    {
        int copy = slots.Allocate();
        foreach (var column in columns)
        {
            column.CopySlot(frozen, copy);
        }

        _frozen.Add(frozen);
        SlotsCopied++;
        return copy;
    }

    /// <summary>Frees <paramref name="slot"/> now, or once the cut's entries are written when it is frozen.</summary>
    public void Release(int slot)
    {
        if (!KeepIfFrozen(slot))
        {
            slots.Release(slot);
        }
    }

    /// <summary>Keeps <paramref name="slot"/> to be freed once the cut is written when it is frozen (a group emitted from it reads it,
    /// which does not change it).</summary>
    /// <returns>Whether it was frozen (the caller must not free it).</returns>
    public bool KeepIfFrozen(int slot)
    {
        if (!IsFrozen(slot))
        {
            return false;
        }

        _frozen.Add(slot);
        return true;
    }

    /// <summary>Releases the slots kept for the last cut once its entries are written.</summary>
    public void ReleaseFrozen()
    {
        if (_frozen.Count == 0 || Volatile.Read(ref _written) != int.MaxValue)
        {
            return;
        }

        foreach (int slot in _frozen)
        {
            slots.Release(slot);
        }

        _frozen.Clear();
    }

    /// <summary>Starts a cut of at most <paramref name="capacity"/> entries: a new epoch, the entry array reused from cut to cut.</summary>
    public void Begin(int capacity)
    {
        // One cut at a time: the job takes the next checkpoint only once the previous one is written, so this does not wait there.
        SpinWait.SpinUntil(() => Volatile.Read(ref _written) == int.MaxValue);
        ReleaseFrozen();
        if (_entries.Length < capacity)
        {
            _entries = new TEntry[Math.Max(capacity, _entries.Length * 2)];
        }

        if (_slotEpoch.Length < slots.Capacity)
        {
            Array.Resize(ref _slotEpoch, slots.Capacity);
            Array.Resize(ref _slotEntry, slots.Capacity);
        }

        _epoch++;
        _count = 0;
    }

    /// <summary>Records <paramref name="entry"/> and freezes <paramref name="slot"/>, its accumulators.</summary>
    public void Freeze(in TEntry entry, int slot)
    {
        _entries[_count] = entry;
        _slotEpoch[slot] = _epoch;
        _slotEntry[slot] = _count++;
    }

    /// <summary>Ends the cut: from now on the frozen slots are copied before they change. Returns the records' writer, to run once on
    /// a pool thread after the store's second part: it writes each entry with <paramref name="write"/> and marks it written.</summary>
    public Action<Func<int, BinaryWriter>> End(Action<Func<int, BinaryWriter>, TEntry> write)
    {
        var entries = _entries;
        int count = _count;
        Volatile.Write(ref _written, 0);
        return writerOf =>
        {
            try
            {
                for (int i = 0; i < count; i++)
                {
                    write(writerOf, entries[i]); // its slot is frozen: the query does not change or free it until it is marked written
                    Volatile.Write(ref _written, i + 1);
                }

                Array.Clear(entries, 0, count); // the keys go back to the GC with their groups
            }
            finally
            {
                Volatile.Write(ref _written, int.MaxValue);
            }
        };
    }
}
