using LinqStream.Parallel;
using LinqStream.Runtime;
using LinqStream.Runtime.Checkpoints;
using LinqStream.Runtime.State;
using LinqStream.Temporal;
using Layout = LinqStream.Physical.Join.Spilled.SpilledTemporalJoinKeys;

// TKey may be a nullable type (the user's key selector decides it); null keys never reach the live events, the operator checks first.
#pragma warning disable CS8714

namespace LinqStream.Physical.Join.Spilled;

/// <summary>
/// The interval (temporal) join whose live events may outgrow memory: up to <see cref="IKeyedStateStoreFactory.HotKeys"/> live
/// events stay in the heap operator's columns; when a round leaves more, every live right event (and, in an inner join, every live
/// left event) is written to an <see cref="IKeyedStateStore"/> in one batch, and each later probe of a key reads that key's events
/// there after those on the heap.
/// </summary>
/// <remarks>
/// <para>
/// Same output as <see cref="TemporalJoinOperator{TLeft, TRight, TKey, TResult}"/>, event for event and in the same order: a spill
/// moves every live event of a side, so the events of a key on the heap are always newer than its events in the store; a probe
/// walks the heap's list (newest first), then the store's range of the key backwards (newest first), skipping the events that
/// ended at or before the probing event's start (those the heap operator would have evicted). Events in the store are deleted by
/// the watermark: per key group and side, the prefix of the expiry index that ends at or before it.
/// </para>
/// <para>
/// The left-outer and anti joins keep their left events (and the queue of undecided ones, whose order decides the output) on the
/// heap and spill only their right events: a spilled left event would need its match flag updated in the store by every right
/// probe. Per probe of a key whose key group has events in the store: one range read, unless the key is the one read last (its
/// events are kept until the next spill). Spill and probe paths allocate (the key's stable encoding, the payload's boxes through
/// <see cref="StateCodec"/>); a join that has spilled nothing runs the heap operator's code with one untaken branch per event.
/// </para>
/// </remarks>
#pragma warning disable CA1001 // The streams are MemoryStreams over managed buffers (Dispose frees nothing); the store is owned and disposed by the run's IKeyedStateStoreFactory.
internal sealed class SpilledTemporalJoinOperator<TLeft, TRight, TKey, TResult>
    : TemporalJoinOperator<TLeft, TRight, TKey, TResult>, IDeferredCheckpointed, ICheckpointWarmup
{
    private const int LeftSide = 0;
    private const int RightSide = 1;

    private readonly int _hotEvents;
    private readonly int _keyGroups;

    // Per side (0 left, 1 right) and key group: how many live events the store holds, and the earliest end among them.
    private readonly int[][] _stored;
    private readonly long[][] _minEnd;
    private readonly long[] _storedTotal = new long[2];
    private readonly MemoryStream _valueStream = new();
    private readonly BinaryWriter _valueWriter;
    private readonly StoredValueReader _read = new();
    private readonly StoredEvents<TLeft> _loadedLeft = new();
    private readonly StoredEvents<TRight> _loadedRight = new();
    private byte[] _keyBuffer = new byte[256];
    private readonly byte[] _expiryKey = new byte[Layout.ExpiryLength];
    private long _nextSequence;
    private long _storeReads;

    public SpilledTemporalJoinOperator(IStreamObserver<TResult> downstream, QueryContext context, JoinKernels<TLeft, TRight, TKey, TResult> kernels, IKeyedStateStoreFactory stores)
        : base(downstream, context, kernels)
    {
        _hotEvents = Math.Max(16, stores.HotKeys);
        _keyGroups = context.Options.KeyGroups;
        _stored = [new int[_keyGroups], new int[_keyGroups]];
        _minEnd = [new long[_keyGroups], new long[_keyGroups]];
        Store = stores.Create("interval-join");
        _valueWriter = new BinaryWriter(_valueStream);
    }

    /// <summary>Gets the store (tests).</summary>
    internal IKeyedStateStore Store { get; }

    /// <summary>Another name than the heap operator's: a checkpoint of one backend is refused by the other, naming both.</summary>
    public override string CheckpointName => base.CheckpointName + "(spilled)";

    /// <summary>Gets the number of live events in the store (both inputs).</summary>
    public override long SpilledGroups => Volatile.Read(ref _storedTotal[LeftSide]) + Volatile.Read(ref _storedTotal[RightSide]);

    /// <summary>The heap operator's round; then the events the watermark ended leave the store, and the live events spill if over budget.</summary>
    protected override void Round(long watermark)
    {
        base.Round(watermark);
        Expire(watermark);
        SpillIfOver();
        Store.Commit();
        if (_storeReads > 0)
        {
            Interlocked.Add(ref SpilledTemporalJoinCounters.StoreReads, _storeReads);
            _storeReads = 0;
        }
    }

    private void SpillIfOver()
    {
        bool spillLeft = Kind == JoinKind.Inner;
        long heap = RightLiveCount + (spillLeft ? LeftLiveCount : 0);
        if (heap <= _hotEvents)
        {
            return;
        }

        Interlocked.Add(ref SpilledTemporalJoinCounters.EventsSpilled, heap);
        if (spillLeft && LeftLiveCount > 0)
        {
            Spill(LeftLive, LeftExpiry, LeftSide, Layout.LeftTable);
            _loadedLeft.Forget();
        }

        if (RightLiveCount > 0)
        {
            Spill(RightLive, RightExpiry, RightSide, Layout.RightTable);
            _loadedRight.Forget();
        }

        Keys.Sweep();
        UpdateFlags();
    }

    /// <summary>Writes every live event of a side to the store, each key's list oldest first (one sequence number each), and empties the side.</summary>
    private void Spill<T>(LiveEvents<T> live, ExpiryHeap expiry, int side, byte table)
    {
        int written = 0;
        foreach (int tail in live.UsedSlots())
        {
            int id = live.Entry[tail];
            if (id < 0 || live.Next[tail] >= 0)
            {
                continue; // not the oldest event of a key's list
            }

            var key = Keys.KeyOf(id);
            ulong hash = StableKeyHash<TKey>.Hash(key);
            int group = KeyGroups.Of(hash, _keyGroups);
            byte[] encoding = StableKeyHash<TKey>.Encode(key);
            StoredValueReader.Ensure(ref _keyBuffer, Layout.EventPrefix + encoding.Length + 8);
            int prefix = Layout.WriteEventPrefix(_keyBuffer, group, table, hash, encoding);
            for (int slot = tail; slot >= 0; slot = live.Prev[slot])
            {
                long end = live.End[slot];
                long sequence = _nextSequence++;
                System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(_keyBuffer.AsSpan(prefix), sequence);
                var eventKey = _keyBuffer.AsSpan(0, prefix + 8);
                _valueStream.SetLength(0);
                _valueWriter.Write(end);
                StateCodec.Write(_valueWriter, live.Payload[slot], typeof(T));
                _valueWriter.Flush();
                Store.Put(eventKey, _valueStream.GetBuffer().AsSpan(0, (int)_valueStream.Length));
                Layout.WriteExpiry(_expiryKey, group, side, end, sequence);
                Store.Put(_expiryKey, eventKey);
                if (_stored[side][group]++ == 0 || end < _minEnd[side][group])
                {
                    _minEnd[side][group] = end;
                }

                written++;
            }

            Keys.Head(id, side) = -1;
            Keys.MarkIfEmpty(id);
        }

        if (written != live.Count)
        {
            throw new InvalidOperationException($"The join's live events are not all on their keys' lists ({written} of {live.Count} spilled).");
        }

        _storedTotal[side] += written;
        live.Clear();
        expiry.Clear();
    }

    /// <summary>Deletes from the store every live event with <c>End &lt;= watermark</c>: per key group and side, a prefix of the expiry index.</summary>
    private void Expire(long watermark)
    {
        for (int side = LeftSide; side <= RightSide; side++)
        {
            if (_storedTotal[side] == 0)
            {
                continue;
            }

            int[] stored = _stored[side];
            long[] minEnd = _minEnd[side];
            for (int group = 0; group < _keyGroups; group++)
            {
                if (stored[group] == 0 || minEnd[group] > watermark)
                {
                    continue;
                }

                using var cursor = Store.Scan(Layout.ExpiryFrom(group, side), Layout.ExpiryLimit(group, side));
                int deleted = 0;
                for (; cursor.Valid; cursor.Next())
                {
                    long end = Layout.EndOf(cursor.Key);
                    if (end > watermark)
                    {
                        minEnd[group] = end;
                        break;
                    }

                    Store.Delete(cursor.Value);
                    Store.Delete(cursor.Key);
                    deleted++;
                }

                stored[group] -= deleted;
                _storedTotal[side] -= deleted;
                Interlocked.Add(ref SpilledTemporalJoinCounters.EventsExpiredFromStore, deleted);
            }
        }

        UpdateFlags();
    }

    private void UpdateFlags()
    {
        StoreHasLeft = _storedTotal[LeftSide] > 0;
        StoreHasRight = _storedTotal[RightSide] > 0;
    }

    private protected override bool ProbeStoredRight(TKey key, long start, long end, TLeft payload, bool direct)
    {
        var loaded = _loadedRight;
        if (!Load(key, RightSide, Layout.RightTable, loaded))
        {
            return false;
        }

        bool found = false;
        var ends = loaded.Ends;
        var payloads = loaded.Payloads;
        for (int i = ends.Count - 1; i >= 0; i--)
        {
            long re = ends[i];
            if (re <= start)
            {
                continue; // ended: the heap operator would have evicted it
            }

            found = true;
            if (Kind == JoinKind.Anti)
            {
                return true;
            }

            if (direct)
            {
                Writer.Add(start, end < re ? end : re, payload, payloads[i]);
            }
            else
            {
                Pending.Enqueue(start, end < re ? end : re, payload, payloads[i]);
            }
        }

        return found;
    }

    private protected override void ProbeStoredLeft(TKey key, long start, long end, TRight payload)
    {
        var loaded = _loadedLeft;
        if (!Load(key, LeftSide, Layout.LeftTable, loaded))
        {
            return;
        }

        var ends = loaded.Ends;
        var payloads = loaded.Payloads;
        for (int i = ends.Count - 1; i >= 0; i--)
        {
            long le = ends[i];
            if (le > start)
            {
                Writer.Add(start, end < le ? end : le, payloads[i], payload);
            }
        }
    }

    /// <summary>Reads <paramref name="key"/>'s live events of a side in the store (one range, oldest first) unless they are the last key's; false when it has none.</summary>
    private bool Load<T>(TKey key, int side, byte table, StoredEvents<T> loaded)
    {
        ulong hash = StableKeyHash<TKey>.Hash(key);
        int group = KeyGroups.Of(hash, _keyGroups);
        if (_stored[side][group] == 0)
        {
            return false;
        }

        byte[] encoding = StableKeyHash<TKey>.Encode(key);
        int length = Layout.EventPrefix + encoding.Length;
        StoredValueReader.Ensure(ref _keyBuffer, length);
        Layout.WriteEventPrefix(_keyBuffer, group, table, hash, encoding);
        var prefix = _keyBuffer.AsSpan(0, length);
        if (!prefix.SequenceEqual(loaded.Prefix))
        {
            loaded.Ends.Clear();
            loaded.Payloads.Clear();
            loaded.Prefix = prefix.ToArray();
            _storeReads++;
            using var cursor = Store.Scan(loaded.Prefix, Layout.SequenceLimit(prefix));
            for (; cursor.Valid; cursor.Next())
            {
                var reader = _read.Load(cursor.Value);
                loaded.Ends.Add(reader.ReadInt64());
                loaded.Payloads.Add((T)StateCodec.Read(reader, typeof(T))!);
            }
        }

        return loaded.Ends.Count > 0;
    }

    protected override void ReleaseAll()
    {
        base.ReleaseAll();
        for (int side = LeftSide; side <= RightSide; side++)
        {
            Array.Clear(_stored[side]);
            _storedTotal[side] = 0;
        }

        _loadedLeft.Forget();
        _loadedRight.Forget();
        UpdateFlags();
    }

    /// <summary>The live events on the heap and the store's checkpoint, written at once (a savepoint; jobs use <see cref="BeginWriteState"/>).</summary>
    public override void WriteState(BinaryWriter writer)
    {
        Store.Commit();
        SpilledJoinSection.WriteNow(writer, Store, CaptureState(), _nextSequence);
    }

    /// <summary>The state on the heap now; the section once the store's checkpoint (its flush, off this thread) has its manifest.</summary>
    public DeferredSection? BeginWriteState() => SpilledJoinSection.Begin(Store, CaptureState, _nextSequence);

    /// <summary>The cut's code with an empty manifest instead of the store's checkpoint, kept nowhere (<see cref="ICheckpointWarmup"/>).</summary>
    public void WarmCheckpointPath() => SpilledJoinSection.Write(BinaryWriter.Null, CaptureState(), _nextSequence, []);

    /// <summary>
    /// Loads the store from the manifest (every key group: a join runs on one task at every parallelism), counts its events per key
    /// group and side from the expiry index, then restores the heap's state (buffered events go through the key kernels again).
    /// </summary>
    public override void ReadState(BinaryReader reader)
    {
        var state = SpilledJoinSection.Read<JoinState<TLeft, TRight, TKey>>(reader, Store, _keyGroups, out _nextSequence);
        for (int side = LeftSide; side <= RightSide; side++)
        {
            for (int group = 0; group < _keyGroups; group++)
            {
                using var cursor = Store.Scan(Layout.ExpiryFrom(group, side), Layout.ExpiryLimit(group, side));
                int count = 0;
                for (; cursor.Valid; cursor.Next())
                {
                    if (count++ == 0)
                    {
                        _minEnd[side][group] = Layout.EndOf(cursor.Key);
                    }
                }

                _stored[side][group] = count;
                _storedTotal[side] += count;
            }
        }

        _loadedLeft.Forget();
        _loadedRight.Forget();
        UpdateFlags();
        Restore(state);
    }

    /// <summary>The live events of the key read last from the store, oldest first.</summary>
    private sealed class StoredEvents<T>
    {
        public byte[] Prefix { get; set; } = [];

        public List<long> Ends { get; } = [];

        public List<T> Payloads { get; } = [];

        public void Forget()
        {
            Prefix = [];
            Ends.Clear();
            Payloads.Clear();
        }
    }
}
#pragma warning restore CA1001

/// <summary>Process-wide counts of the spilled interval joins' work (tests: the store was really used). Updated once per round, not per event.</summary>
internal static class SpilledTemporalJoinCounters
{
    /// <summary>Live events written to a store so far.</summary>
    public static long EventsSpilled;

    /// <summary>Range reads of a key's live events in a store so far.</summary>
    public static long StoreReads;

    /// <summary>Live events deleted from a store by the watermark so far.</summary>
    public static long EventsExpiredFromStore;
}
