using LinqStream.Physical.Aggregate;
using LinqStream.Runtime.Checkpoints;
using LinqStream.Temporal;
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

    public override KeyGroupSlice WriteKeyGroups(int first, int end, int keyGroups)
    {
        // As the spilled session aggregate: the store's checkpoint ends off this thread, and so does the writing of the hot groups
        // (copy on write) when every aggregate's capture is a copy; otherwise they are written here, at the cut.
        _store.Commit();
        return Slice(first, end, keyGroups, _store.BeginCheckpoint());
    }

    /// <summary>The cut's code over the state as it is, with an empty manifest instead of the store's checkpoint, kept nowhere: the
    /// first checkpoint does not pay its first run in the query's pause (<see cref="ICheckpointWarmup"/>).</summary>
    public void WarmCheckpointPath()
    {
        int groups = Context.Options.KeyGroups;
        var slice = Slice(0, groups, groups, Task.FromResult(Array.Empty<byte>()));
        KeyGroupedSection.Write(BinaryWriter.Null, groups, [slice]);
    }

    /// <summary>The slice of the hot state at the cut; its header ends with <paramref name="manifest"/>, the store's checkpoint.</summary>
    private KeyGroupSlice Slice(int first, int end, int keyGroups, Task<byte[]> manifest)
    {
        Action<Func<int, BinaryWriter>> writeRecords = _cut is not null ? FreezeHotGroups(_cut, keyGroups) : writerOf =>
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
            recordsLater: _cut is not null);
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
