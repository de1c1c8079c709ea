using LinqStream.Physical.Aggregate;
using LinqStream.Runtime.Checkpoints;
using Layout = LinqStream.Physical.Windows.SpilledWindowKeys;

namespace LinqStream.Physical.Windows;

/// <summary>The checkpoint of the spilled window aggregate: the cut (copy on write of the hot groups' slots), the section, the restore.</summary>
#pragma warning disable CA1001 // As on the main part: the streams are MemoryStreams over managed buffers; the store is disposed by the run's IKeyedStateStoreFactory.
internal sealed partial class SpilledFixedWindowAggregateOperator<T, TKey, TResult>
{
    // Copy on write at a checkpoint's cut, as in the spilled session aggregate (docs/state.md, "Copy on write at the cut";
    // CopyOnWriteCut): null when an aggregate's capture is not a copy (the records are then written at the cut).
    private readonly CopyOnWriteCut<T, CutEntry>? _cut;

    /// <summary>Frees <paramref name="slot"/> now, or once the checkpoint's records are written when the cut froze it.</summary>
    private void ReleaseSlot(int slot)
    {
        if (_cut is not null)
        {
            _cut.Release(slot);
        }
        else
        {
            Slots.Release(slot);
        }
    }

    protected override (Action<Func<int, BinaryWriter>> Write, bool Later) CutRecords(int keyGroups)
    {
        if (_cut is not null)
        {
            return (FreezeHotGroups(_cut, keyGroups), true);
        }

        return (writerOf =>
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
        }, false);
    }

    /// <summary>Lists the hot groups and freezes their slots; the returned writer (on a pool thread, after the store's second part)
    /// writes them from the frozen slots and marks each entry written.</summary>
    private Action<Func<int, BinaryWriter>> FreezeHotGroups(CopyOnWriteCut<T, CutEntry> cut, int keyGroups)
    {
        int count = 0;
        foreach (var window in _windows)
        {
            count += window.Slots.Count + (window.Null >= 0 ? 1 : 0);
        }

        cut.Begin(count);
        foreach (var window in _windows)
        {
            if (window.Null >= 0)
            {
                cut.Freeze(new CutEntry(window.Start, GroupKind.NullKey, default!, window.Null), window.Null);
            }

            foreach (var (key, slot) in window.Slots)
            {
                cut.Freeze(new CutEntry(window.Start, GroupKind.Keyed, key, slot), slot);
            }
        }

        return cut.End((writerOf, entry) => WriteGroup(writerOf(KeyGroupOf(entry.Key, keyGroups)), entry.Start, entry.Kind, entry.Key, entry.Slot));
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
        RestoreStore(section, first, end);
        if (_usePanes)
        {
            RestoreNextWindowStart();
        }

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
            using var cursor = Store.Scan(Layout.TableFrom(g), Layout.TableLimit(g));
            for (; cursor.Valid; cursor.Next())
            {
                var window = GetWindow(Layout.StartOf(cursor.Key));
                window.MarkSpilled(g, KeyGroupCount);
                window.Spilled++;
                _spilled++;
            }
        }
    }
}
#pragma warning restore CA1001
