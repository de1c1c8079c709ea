using LinqStream.Runtime.Checkpoints;
using Layout = LinqStream.Physical.Windows.Session.SpilledSessionKeys;

namespace LinqStream.Physical.Windows.Session;

/// <summary>The checkpoint of the spilled session aggregate: the cut (copy on write of the hot sessions' slots), the section, the restore.</summary>
#pragma warning disable CA1001 // As on the main part: the streams are MemoryStreams over managed buffers; the store is disposed by the run's IKeyedStateStoreFactory.
internal sealed partial class SpilledSessionWindowAggregateOperator<T, TKey, TResult>
{
    // Copy on write at a checkpoint's cut (docs/state.md, "Copy on write at the cut"; CopyOnWriteCut): null when an aggregate's
    // capture is not a copy (the records are then written at the cut).
    private readonly CopyOnWriteCut<T, CutEntry>? _cut;

    protected override (Action<Func<int, BinaryWriter>> Write, bool Later) CutRecords(int keyGroups)
    {
        if (_cut is not null)
        {
            return (FreezeHotSessions(_cut, keyGroups), true);
        }

        return (writerOf =>
        {
            foreach (var (session, _) in _closing.UnorderedItems)
            {
                WriteRecord(writerOf, Entry(session), keyGroups);
            }
        }, false);
    }

    /// <summary>
    /// The cut of the hot sessions without copying their accumulators (issue #18, the pause): each session's fields go into an entry
    /// of the cut and its slot is frozen; the returned writer, run on a pool thread after the store's second part, writes the entries
    /// and the accumulators from the frozen slots. Until then the query copies a frozen slot before it changes or frees it.
    /// </summary>
    private Action<Func<int, BinaryWriter>> FreezeHotSessions(CopyOnWriteCut<T, CutEntry> cut, int keyGroups)
    {
        cut.Begin(_closing.Count);
        foreach (var (session, _) in _closing.UnorderedItems)
        {
            cut.Freeze(Entry(session), session.Slot);
        }

        return cut.End((writerOf, entry) => WriteRecord(writerOf, entry, keyGroups));
    }

    private static CutEntry Entry(Session session) => new(session.Key, session.Hash, session.Start, session.End, session.Current, session.Slot);

    /// <summary>One hot session's record, in its key group (the kept stable hash: 0 for the null key, whose group is 0; no key is
    /// hashed again at the cut).</summary>
    private void WriteRecord(Func<int, BinaryWriter> writerOf, CutEntry entry, int keyGroups)
    {
        var writer = writerOf(Parallel.KeyGroups.Of(entry.Hash, keyGroups));
        writer.Write(entry.Start);
        writer.Write(entry.End);
        writer.Write(entry.Current);
        StateCodec.Write(writer, entry.Key, typeof(TKey));
        WriteSlot(writer, entry.Slot);
    }

    /// <summary>A hot session's fields at a checkpoint's cut; its accumulators stay in <see cref="Slot"/>, frozen until written.</summary>
    private readonly record struct CutEntry(TKey Key, ulong Hash, long Start, long End, bool Current, int Slot);

    public override void ReadKeyGroups(KeyGroupedSection section, int first, int end)
    {
        RestoreStore(section, first, end);
        _spilled = CountSpilled(first, end);
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
            using var cursor = Store.Scan(Layout.ByEndFrom(g, long.MinValue), Layout.ByEndLimit(g));
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
