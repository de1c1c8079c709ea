using LinqStream.Runtime.Checkpoints;
using LinqStream.Temporal;
using Layout = LinqStream.Physical.Windows.Session.SpilledSessionKeys;

namespace LinqStream.Physical.Windows.Session;

/// <summary>The checkpoint of the spilled session aggregate: the cut (copy on write of the hot sessions' slots), the section, the restore.</summary>
#pragma warning disable CA1001 // As on the main part: the streams are MemoryStreams over managed buffers; the store is disposed by the run's IKeyedStateStoreFactory.
internal sealed partial class SpilledSessionWindowAggregateOperator<T, TKey, TResult>
{
    // Copy on write at a checkpoint's cut (docs/state.md, "Copy on write at the cut"): the cut records each hot session's fields in
    // _cut and freezes its slot; a pool thread writes the records from there, entry by entry, after the store's second part. A
    // session the query touches, emits or spills before its entry is written gets a copy of its slot (or has the release
    // deferred), so the frozen slot keeps its value at the cut. Entries [0, _cutWritten) are written; int.MaxValue when the
    // writer has ended, after which the slots kept in _frozenSlots are released by the query's thread.
    private readonly bool _copyOnWrite;
    private CutEntry[] _cut = [];
    private int _cutEpoch;
    private int _cutWritten = int.MaxValue;
    private readonly List<int> _frozenSlots = [];

    /// <summary>Moves a session whose slot is frozen by the checkpoint being written into a copy of that slot (the query goes on in
    /// the copy; the frozen slot is released once the checkpoint's records are written).</summary>
    private void Detach(Session session)
    {
        int copy = Slots.Allocate();
        foreach (var column in Plan.Columns)
        {
            column.CopySlot(session.Slot, copy);
        }

        _frozenSlots.Add(session.Slot);
        session.Slot = copy;
        session.CutEpoch = 0;
        SlotsCopiedAtCut++;
    }

    /// <summary>Whether <paramref name="session"/>'s slot is frozen by a cut whose records have not taken it yet.</summary>
    private bool IsFrozen(Session session) => session.CutEpoch == _cutEpoch && session.CutIndex >= Volatile.Read(ref _cutWritten);

    /// <summary>Frees <paramref name="session"/>'s slot now, or once the cut's records are written when it is frozen.</summary>
    private void ReleaseSlot(Session session)
    {
        if (IsFrozen(session))
        {
            _frozenSlots.Add(session.Slot);
        }
        else
        {
            Slots.Release(session.Slot);
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
        // The store's checkpoint starts here and finishes off this thread (its flush is the slow part); the manifest goes into the
        // header when the checkpoint file is written, so the task goes on with its next batch meanwhile (docs/state.md).
        _store.Commit();
        var manifest = _store.BeginCheckpoint();
        Action<Func<int, BinaryWriter>> writeRecords = _copyOnWrite ? FreezeHotSessions(keyGroups) : writerOf =>
        {
            foreach (var (session, _) in _closing.UnorderedItems)
            {
                // The session's stable hash is kept (0 for the null key, whose group is 0): no key is hashed again at the cut.
                var writer = writerOf(Parallel.KeyGroups.Of(session.Hash, keyGroups));
                writer.Write(session.Start);
                writer.Write(session.End);
                writer.Write(session.Current);
                StateCodec.Write(writer, session.Key, typeof(TKey));
                WriteSlot(writer, session.Slot);
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

    /// <summary>
    /// The cut of the hot sessions without copying their accumulators (issue #18, the pause): each session's fields go into an entry
    /// of <see cref="_cut"/> (reused from cut to cut) and its slot is frozen; the returned writer, run on a pool thread after the
    /// store's second part, writes the entries from there and the accumulators from the frozen slots, marking each entry written.
    /// Until then the query copies a frozen slot before it changes or frees it (<see cref="Detach"/>, <see cref="ReleaseSlot"/>).
    /// </summary>
    private Action<Func<int, BinaryWriter>> FreezeHotSessions(int keyGroups)
    {
        // One cut at a time: the job takes the next checkpoint only once the previous one is written, so this does not wait there.
        SpinWait.SpinUntil(() => Volatile.Read(ref _cutWritten) == int.MaxValue);
        ReleaseFrozenSlots();
        int count = _closing.Count;
        if (_cut.Length < count)
        {
            _cut = new CutEntry[Math.Max(count, _cut.Length * 2)];
        }

        var cut = _cut;
        int epoch = ++_cutEpoch;
        int n = 0;
        foreach (var (session, _) in _closing.UnorderedItems)
        {
            cut[n] = new CutEntry(session.Key, session.Hash, session.Start, session.End, session.Current, session.Slot);
            session.CutEpoch = epoch;
            session.CutIndex = n++;
        }

        Volatile.Write(ref _cutWritten, 0);
        return writerOf =>
        {
            try
            {
                for (int i = 0; i < count; i++)
                {
                    ref readonly var entry = ref cut[i];
                    var writer = writerOf(Parallel.KeyGroups.Of(entry.Hash, keyGroups));
                    writer.Write(entry.Start);
                    writer.Write(entry.End);
                    writer.Write(entry.Current);
                    StateCodec.Write(writer, entry.Key, typeof(TKey));
                    WriteSlot(writer, entry.Slot); // frozen: the query does not change or free it until this entry is marked written
                    Volatile.Write(ref _cutWritten, i + 1);
                }

                Array.Clear(cut, 0, count); // the keys go back to the GC with their sessions
            }
            finally
            {
                Volatile.Write(ref _cutWritten, int.MaxValue);
            }
        };
    }

    /// <summary>A hot session's fields at a checkpoint's cut; its accumulators stay in <see cref="Slot"/>, frozen until written.</summary>
    private readonly record struct CutEntry(TKey Key, ulong Hash, long Start, long End, bool Current, int Slot);

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
        _spilled = CountSpilled(first, end);
        LastWatermark = watermark;
        ReadRecords(section, first, end, reader =>
        {
            long start = reader.ReadInt64();
            long sessionEnd = reader.ReadInt64();
            bool current = reader.ReadBoolean();
            var key = (TKey)StateCodec.Read(reader, typeof(TKey))!;
            int slot = RestoreAccumulators(ReadAccumulators(reader));
            var session = _free.Count > 0 ? _free.Pop() : new Session();
            session.Key = key;
            session.Hash = key is null ? 0 : Parallel.StableKeyHash<TKey>.Hash(key);
            session.Start = start;
            session.End = sessionEnd;
            session.Slot = slot;
            session.Current = current;
            session.CutEpoch = 0;
            _closing.Enqueue(session, (sessionEnd, session.Hash, _sequence++));
            if (current)
            {
                if (key is null)
                {
                    _nullKeySession = session;
                }
                else
                {
                    _open[key] = session;
                }
            }
        });
    }

    /// <summary>Counts the restored spilled sessions and finds where each key group's start (one pass over the restored store).</summary>
    private long CountSpilled(int first, int end)
    {
        long count = 0;
        for (int g = first; g < end; g++)
        {
            using var cursor = _store.Scan(Layout.ByEndFrom(g, long.MinValue), Layout.ByEndLimit(g));
            _spilledFrom[g] = cursor.Valid ? Layout.EndOf(cursor.Key) : long.MaxValue;
            for (; cursor.Valid; cursor.Next())
            {
                count++;
            }
        }

        return count;
    }
}
#pragma warning restore CA1001
