using LinqStream.Physical.Aggregate;
using LinqStream.Runtime.Checkpoints;
using LinqStream.Temporal;
using Layout = LinqStream.Physical.Windows.SpilledWindowKeys;

namespace LinqStream.Physical.Windows;

/// <summary>The checkpoint of the spilled window aggregate: the cut (copy on write of the hot groups' slots), the section, the restore.</summary>
#pragma warning disable CA1001 // As on the main part: the streams are MemoryStreams over managed buffers; the store is disposed by the run's IKeyedStateStoreFactory.
internal sealed partial class SpilledFixedWindowAggregateOperator<T, TKey, TResult>
{
    // Copy on write at a checkpoint's cut, as in the spilled session aggregate (docs/state.md, "Copy on write at the cut"): the cut
    // lists the hot groups in _cut and stamps each one's slot with the cut's epoch and its entry; a pool thread writes the entries
    // after the store's second part, marking [0, _cutWritten) written (int.MaxValue once it has ended). Until its entry is written a
    // stamped slot is not changed (an event moves the group to a copy) nor freed (the free waits in _frozenSlots).
    private readonly bool _copyOnWrite;
    private CutEntry[] _cut = [];
    private int _cutEpoch;
    private int _cutWritten = int.MaxValue;
    private int[] _slotEpoch = [];
    private int[] _slotCutIndex = [];
    private readonly List<int> _frozenSlots = [];

    /// <summary>Whether <paramref name="slot"/> is frozen by the checkpoint's cut and not yet written (a slot past the stamps was never stamped).</summary>
    private bool IsFrozen(int slot) =>
        (uint)slot < (uint)_slotEpoch.Length && _slotEpoch[slot] == _cutEpoch && _slotCutIndex[slot] >= Volatile.Read(ref _cutWritten);

    /// <summary>A copy of a frozen slot for the query to go on in; the frozen one is freed once the cut is written.</summary>
    private int Detach(int frozen)
    {
        int copy = Slots.Allocate();
        foreach (var column in Plan.Columns)
        {
            column.CopySlot(frozen, copy);
        }

        _frozenSlots.Add(frozen);
        SlotsCopiedAtCut++;
        return copy;
    }

    /// <summary>Frees <paramref name="slot"/> now, or once the cut's records are written when it is frozen.</summary>
    private void ReleaseSlot(int slot)
    {
        if (IsFrozen(slot))
        {
            _frozenSlots.Add(slot);
        }
        else
        {
            Slots.Release(slot);
        }
    }

    /// <summary>Releases the slots kept for the last cut once its records are written (on the query's thread: the allocator is its own).</summary>
    private void ReleaseFrozenSlots()
    {
        if (_frozenSlots.Count == 0 || Volatile.Read(ref _cutWritten) != int.MaxValue)
        {
            return;
        }

        foreach (int slot in _frozenSlots)
        {
            Slots.Release(slot);
        }

        _frozenSlots.Clear();
    }

    public override KeyGroupSlice WriteKeyGroups(int first, int end, int keyGroups)
    {
        // As the spilled session aggregate: the store's checkpoint ends off this thread, and so does the writing of the hot groups
        // (copy on write) when every aggregate's capture is a copy; otherwise they are written here, at the cut.
        _store.Commit();
        var manifest = _store.BeginCheckpoint();
        Action<Func<int, BinaryWriter>> writeRecords = _copyOnWrite ? FreezeHotGroups(keyGroups) : writerOf =>
        {
            foreach (var window in _windows)
            {
                if (window.Null >= 0)
                {
                    WriteGroup(writerOf(KeyGroupOf(default!, keyGroups)), window.Start, GroupKind.NullKey, default!, window.Null);
                }

                foreach (var (key, slot) in window.Slots)
                {
                    WriteGroup(writerOf(KeyGroupOf(key, keyGroups)), window.Start, GroupKind.Keyed, key, slot);
                }
            }
        };

        long watermark = LastWatermark, spilled = _spilled;
        return KeyGroupSlice.Build(
            first,
            end,
            header =>
            {
                header.Write(watermark);
                header.Write(spilled);
            },
            writeRecords,
            completeHeader: header =>
            {
                byte[] bytes = manifest.GetAwaiter().GetResult();
                header.Write(bytes.Length);
                header.Write(bytes);
            },
            ready: manifest,
            recordsLater: _copyOnWrite);
    }

    /// <summary>Lists the hot groups and freezes their slots; the returned writer (on a pool thread, after the store's second part)
    /// writes them from the frozen slots and marks each entry written.</summary>
    private Action<Func<int, BinaryWriter>> FreezeHotGroups(int keyGroups)
    {
        // One cut at a time: the job takes the next checkpoint only once the previous one is written, so this does not wait there.
        SpinWait.SpinUntil(() => Volatile.Read(ref _cutWritten) == int.MaxValue);
        ReleaseFrozenSlots();
        int count = 0;
        foreach (var window in _windows)
        {
            count += window.Slots.Count + (window.Null >= 0 ? 1 : 0);
        }

        if (_cut.Length < count)
        {
            _cut = new CutEntry[Math.Max(count, _cut.Length * 2)];
        }

        if (_slotEpoch.Length < Slots.Capacity)
        {
            Array.Resize(ref _slotEpoch, Slots.Capacity);
            Array.Resize(ref _slotCutIndex, Slots.Capacity);
        }

        var cut = _cut;
        int epoch = ++_cutEpoch;
        int n = 0;
        foreach (var window in _windows)
        {
            if (window.Null >= 0)
            {
                Freeze(new CutEntry(window.Start, GroupKind.NullKey, default!, window.Null));
            }

            foreach (var (key, slot) in window.Slots)
            {
                Freeze(new CutEntry(window.Start, GroupKind.Keyed, key, slot));
            }
        }

        int frozen = n;
        Volatile.Write(ref _cutWritten, 0);
        return writerOf =>
        {
            try
            {
                for (int i = 0; i < frozen; i++)
                {
                    ref readonly var entry = ref cut[i];
                    var writer = writerOf(KeyGroupOf(entry.Key, keyGroups));
                    WriteGroup(writer, entry.Start, entry.Kind, entry.Key, entry.Slot);
                    Volatile.Write(ref _cutWritten, i + 1);
                }

                Array.Clear(cut, 0, frozen); // the keys go back to the GC with their groups
            }
            finally
            {
                Volatile.Write(ref _cutWritten, int.MaxValue);
            }
        };

        void Freeze(CutEntry entry)
        {
            cut[n] = entry;
            _slotEpoch[entry.Slot] = epoch;
            _slotCutIndex[entry.Slot] = n++;
        }
    }

    /// <summary>A hot group at a checkpoint's cut; its accumulators stay in <see cref="Slot"/>, frozen until written.</summary>
    private readonly record struct CutEntry(long Start, GroupKind Kind, TKey Key, int Slot);

    private void WriteGroup(BinaryWriter writer, long windowStart, GroupKind kind, TKey key, int slot)
    {
        writer.Write(windowStart);
        writer.Write((byte)kind);
        if (kind == GroupKind.Keyed)
        {
            StateCodec.Write(writer, key, typeof(TKey));
        }

        WriteSlot(writer, slot);
    }

    public override void ReadKeyGroups(KeyGroupedSection section, int first, int end)
    {
        long watermark = Ticks.MinusInfinity;
        var manifests = new List<byte[]>();
        foreach (var header in section.HeadersOver(first, end))
        {
            using var reader = new BinaryReader(new MemoryStream(header, writable: false));
            watermark = Math.Max(watermark, reader.ReadInt64());
            _ = reader.ReadInt64();
            manifests.Add(reader.ReadBytes(reader.ReadInt32()));
        }

        _store.Restore(manifests, first, end);
        LastWatermark = watermark;
        CountSpilled(first, end);
        ReadRecords(section, first, end, reader =>
        {
            var window = GetWindow(reader.ReadInt64());
            var kind = (GroupKind)reader.ReadByte();
            var key = kind == GroupKind.Keyed ? (TKey)StateCodec.Read(reader, typeof(TKey))! : default!;
            int slot = RestoreAccumulators(ReadAccumulators(reader));
            if (kind == GroupKind.Keyed)
            {
                window.Slots.Add(key, slot);
            }
            else
            {
                window.Null = slot;
            }
        });
    }

    /// <summary>Finds the restored spilled groups: their windows, counts and key groups (one pass over the restored store).</summary>
    private void CountSpilled(int first, int end)
    {
        for (int g = first; g < end; g++)
        {
            using var cursor = _store.Scan(Layout.TableFrom(g), Layout.TableLimit(g));
            for (; cursor.Valid; cursor.Next())
            {
                var window = GetWindow(Layout.StartOf(cursor.Key));
                window.MarkSpilled(g, _keyGroups);
                window.Spilled++;
                _spilled++;
            }
        }
    }
}
#pragma warning restore CA1001
