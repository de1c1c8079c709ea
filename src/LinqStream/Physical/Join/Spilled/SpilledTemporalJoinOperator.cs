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
/// events stay in the heap operator's columns; when a round leaves more, every live event (and, in left-outer and anti joins, the
/// queue of undecided left events) is written to an <see cref="IKeyedStateStore"/> in one batch, and each later probe of a key reads
/// that key's events there after those on the heap.
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
/// Left-outer and anti joins spill their left events too, and with them the oldest part of the queue of undecided left events
/// (whose order decides the output): at a spill the heap's queue is appended, in its order, to a queue in the store, which comes
/// before whatever the heap queues later. A queued event's "matched" flag is one bit on the heap per queued event (set by the probes
/// that meet it in the store), so the store is never rewritten for a match; the queue's front is read back with a point read, and
/// an index of the queued events by end tells the eviction when one of them ends, as the heap's expiry queue does.
/// </para>
/// <para>
/// Per probe of a key whose key group has events in the store: an on-heap filter of the spilled keys' hashes (<see cref="SpilledKeyFilter"/>)
/// rules out most keys with nothing there; otherwise one range read, unless the key is the one read last (its events are kept until
/// the next spill). Spill and probe paths allocate (the key's stable encoding, the payload's boxes through <see cref="StateCodec"/>);
/// a join that has spilled nothing runs the heap operator's code with a few untaken branches per event.
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

    // Per side: the stable hashes of the keys with events in the store (a probe of any other key skips the store).
    private readonly SpilledKeyFilter[] _filters = [new(), new()];
    private readonly MemoryStream _valueStream = new();
    private readonly BinaryWriter _valueWriter;
    private readonly StoredValueReader _read = new();
    private readonly StoredEvents<TLeft> _loadedLeft = new();
    private readonly StoredEvents<TRight> _loadedRight = new();
    private byte[] _keyBuffer = new byte[256];
    private readonly byte[] _expiryKey = new byte[Layout.ExpiryLength];
    private readonly byte[] _queueKey = new byte[Layout.QueueLength];
    private readonly byte[] _queueExpiryKey = new byte[Layout.QueueExpiryLength];
    private long _nextSequence;
    private long _storeReads;
    private long _filterSkips;

    // The store's part of the outer join's queue: entries [_queueHead, _queueTail), oldest first. Their matched flags are bits on the heap
    // (bit i of _matched is entry _matchedBase + i); _queueScanned is the last time up to which the queue's expiry index was read.
    private long _queueHead;
    private long _queueTail;
    private ulong[] _matched = [];
    private long _matchedBase;
    private long _queueScanned = long.MinValue;
    private byte[] _valueBuffer = new byte[256];

    // The queue's front, read from the store (valid while _frontSequence == _queueHead).
    private long _frontSequence = -1;
    private long _frontStart;
    private long _frontEnd;
    private TLeft _frontPayload = default!;

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

        if (_filterSkips > 0)
        {
            Interlocked.Add(ref SpilledTemporalJoinCounters.ProbesSkippedByFilter, _filterSkips);
            _filterSkips = 0;
        }
    }

    private void SpillIfOver()
    {
        long heap = RightLiveCount + LeftLiveCount;
        if (heap <= _hotEvents)
        {
            return;
        }

        Interlocked.Add(ref SpilledTemporalJoinCounters.EventsSpilled, heap);
        if (LeftLiveCount > 0)
        {
            long[]? queued = Kind == JoinKind.Inner ? null : SpillQueue();
            Spill(LeftLive, LeftExpiry, LeftSide, Layout.LeftTable, queued);
            _loadedLeft.Forget();
        }

        if (RightLiveCount > 0)
        {
            Spill(RightLive, RightExpiry, RightSide, Layout.RightTable, null);
            _loadedRight.Forget();
        }

        Keys.Sweep();
        UpdateFlags();
    }

    /// <summary>
    /// Outer modes: appends the heap's queue of undecided left events, in its order, to the store's queue (each entry's start, end and
    /// payload; its end in the queue's expiry index unless it has ended; its matched flag to the bits on the heap), empties the heap's
    /// queue, and returns each slot's queue sequence number (-1 for a slot not queued). The slots themselves are written by
    /// <see cref="Spill"/> (those on a key's list) or dropped here (ended, or with a null key: the queue entry is all they need).
    /// </summary>
    private long[] SpillQueue()
    {
        var live = LeftLive;
        var queue = Undecided;
        var sequenceOf = new long[live.Start.Length];
        sequenceOf.AsSpan().Fill(-1);
        EnsureMatchedBits(_queueTail + queue.Count);
        foreach (int slot in queue)
        {
            long sequence = _queueTail++;
            sequenceOf[slot] = sequence;
            long end = live.End[slot];
            _valueStream.SetLength(0);
            _valueWriter.Write(live.Start[slot]);
            _valueWriter.Write(end);
            StateCodec.Write(_valueWriter, live.Payload[slot], typeof(TLeft));
            _valueWriter.Flush();
            Layout.WriteQueue(_queueKey, sequence);
            Store.Put(_queueKey, _valueStream.GetBuffer().AsSpan(0, (int)_valueStream.Length));
            byte flags = live.Flags[slot];
            if ((flags & LiveEvents<TLeft>.Expired) == 0)
            {
                Layout.WriteQueueExpiry(_queueExpiryKey, end, sequence);
                Store.Put(_queueExpiryKey, []);
                if (end < StoredQueueMinEnd)
                {
                    StoredQueueMinEnd = end;
                }
            }

            if ((flags & LiveEvents<TLeft>.Matched) != 0)
            {
                SetMatched(sequence);
            }
        }

        Interlocked.Add(ref SpilledTemporalJoinCounters.QueuedEventsSpilled, queue.Count);
        queue.Clear();
        return sequenceOf;
    }

    private void EnsureMatchedBits(long tail)
    {
        long drop = (_queueHead - _matchedBase) >> 6;
        long words = (tail - _matchedBase + 63) >> 6;
        if (drop == 0 && words <= _matched.Length)
        {
            return;
        }

        var bits = new ulong[Math.Max(words - drop, 2 * (_matched.Length - drop))];
        if (_matched.Length > drop)
        {
            _matched.AsSpan((int)drop).CopyTo(bits);
        }

        _matched = bits;
        _matchedBase += drop * 64;
    }

    private void SetMatched(long sequence)
    {
        long bit = sequence - _matchedBase;
        _matched[bit >> 6] |= 1UL << (int)(bit & 63);
    }

    private bool IsMatched(long sequence)
    {
        long bit = sequence - _matchedBase;
        return (_matched[bit >> 6] & (1UL << (int)(bit & 63))) != 0;
    }

    /// <summary>Writes every live event of a side to the store, each key's list oldest first (one sequence number each), and empties the side.</summary>
    private void Spill<T>(LiveEvents<T> live, ExpiryHeap expiry, int side, byte table, long[]? queued)
    {
        var filter = _filters[side];
        if (filter.WouldOverflow(live.Count))
        {
            RebuildFilter(side, 2 * (_storedTotal[side] + live.Count));
        }

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
            filter.Add(hash);
            for (int slot = tail; slot >= 0; slot = live.Prev[slot])
            {
                long end = live.End[slot];
                long sequence = _nextSequence++;
                System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(_keyBuffer.AsSpan(prefix), sequence);
                var eventKey = _keyBuffer.AsSpan(0, prefix + 8);
                _valueStream.SetLength(0);
                _valueWriter.Write(end);
                if (side == LeftSide)
                {
                    _valueWriter.Write(queued is null ? -1L : queued[slot]);
                }

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

        // In outer modes, the left events on no key's list (ended while queued, or with a null key) are in the store's queue now.
        int unlisted = 0;
        if (queued is not null)
        {
            foreach (int slot in live.UsedSlots())
            {
                unlisted += live.Entry[slot] < 0 && queued[slot] >= 0 ? 1 : 0;
            }
        }

        if (written + unlisted != live.Count)
        {
            throw new InvalidOperationException($"The join's live events are not all on their keys' lists or in the queue ({written} + {unlisted} of {live.Count} spilled).");
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

            if (_storedTotal[side] == 0)
            {
                _filters[side].Clear();
            }
        }

        UpdateFlags();
    }

    /// <summary>
    /// Sizes a side's key filter for <paramref name="capacity"/> entries and adds the hash of every event of the side in the store
    /// (one scan of its expiry index: each entry's value is its event's key, which holds the hash). Events deleted in the write
    /// batch but not yet committed may still be seen: their keys stay in the filter, which only costs a read.
    /// </summary>
    private void RebuildFilter(int side, long capacity)
    {
        var filter = _filters[side];
        filter.Reset(capacity);
        if (_storedTotal[side] == 0)
        {
            return;
        }

        for (int group = 0; group < _keyGroups; group++)
        {
            if (_stored[side][group] == 0)
            {
                continue;
            }

            using var cursor = Store.Scan(Layout.ExpiryFrom(group, side), Layout.ExpiryLimit(group, side));
            for (; cursor.Valid; cursor.Next())
            {
                filter.Add(Layout.HashOf(cursor.Value));
            }
        }

        Interlocked.Increment(ref SpilledTemporalJoinCounters.FilterBuilds);
    }

    private void UpdateFlags()
    {
        StoreHasLeft = _storedTotal[LeftSide] > 0;
        StoreHasRight = _storedTotal[RightSide] > 0;
        StoreHasQueue = _queueHead < _queueTail;
    }

    /// <summary>
    /// Reads the queue's expiry index for the entries that end in (<see cref="_queueScanned"/>, <paramref name="time"/>]: returns whether
    /// one of them is still queued (the heap operator's eviction would have set its Expired flag, deciding the queue's front perhaps),
    /// deletes them, and moves <c>StoredQueueMinEnd</c> to the next end. Entries of events already dequeued (matched) only go.
    /// </summary>
    private protected override bool EvictStoredQueue(long time)
    {
        bool decided = false;
        long next = long.MaxValue;
        Layout.WriteQueueExpiry(_queueExpiryKey, _queueScanned, 0);
        using (var cursor = Store.Scan(_queueExpiryKey, Layout.QueueExpiryLimit()))
        {
            for (; cursor.Valid; cursor.Next())
            {
                long end = Layout.QueueEndOf(cursor.Key);
                if (end <= _queueScanned)
                {
                    continue; // deleted by an earlier eviction of this round, not committed yet
                }

                if (end > time)
                {
                    next = end;
                    break;
                }

                decided |= Layout.QueueSequenceOf(cursor.Key) >= _queueHead;
                Store.Delete(cursor.Key);
            }
        }

        _queueScanned = time;
        StoredQueueMinEnd = next;
        return decided;
    }

    /// <summary>
    /// The heap operator's <c>Pump</c> over the store's part of the queue: a matched front leaves the queue, an ended unmatched one
    /// becomes its result (after the held-back pairs that start at or before it), an undecided one stops it. An entry has ended when its end is
    /// at or before <paramref name="frontier"/>, the time of the eviction that called this (or of the round's).
    /// </summary>
    private protected override bool PumpStoredQueue(long frontier, out long undecidedStart)
    {
        while (_queueHead < _queueTail)
        {
            LoadFront();
            long sequence = _queueHead;
            if (IsMatched(sequence))
            {
                // Its live event, if it has not ended, stays in the store for later right events (as on the heap, unpinned).
            }
            else if (_frontEnd <= frontier)
            {
                ReleasePendingThrough(_frontStart);
                Writer.Add(_frontStart, _frontEnd, _frontPayload, default!);
            }
            else
            {
                undecidedStart = _frontStart;
                return false;
            }

            Layout.WriteQueue(_queueKey, sequence);
            Store.Delete(_queueKey);
            _queueHead++;
            _frontPayload = default!;
        }

        StoreHasQueue = false;
        undecidedStart = frontier;
        return true;
    }

    /// <summary>Reads the queue's front entry from the store unless it is read already.</summary>
    private void LoadFront()
    {
        if (_frontSequence == _queueHead)
        {
            return;
        }

        Layout.WriteQueue(_queueKey, _queueHead);
        int length = Store.Get(_queueKey, ref _valueBuffer);
        if (length < 0)
        {
            throw new InvalidDataException($"The interval join's queue entry {_queueHead} is missing from the store at {Store.Location}.");
        }

        var reader = _read.Load(_valueBuffer.AsSpan(0, length));
        _frontStart = reader.ReadInt64();
        _frontEnd = reader.ReadInt64();
        _frontPayload = (TLeft)StateCodec.Read(reader, typeof(TLeft))!;
        _frontSequence = _queueHead;
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

    private protected override void ProbeStoredLeft(TKey key, long start, long end, TRight payload, bool direct)
    {
        var loaded = _loadedLeft;
        if (!Load(key, LeftSide, Layout.LeftTable, loaded))
        {
            return;
        }

        var ends = loaded.Ends;
        var payloads = loaded.Payloads;
        var queued = loaded.Queued;
        for (int i = ends.Count - 1; i >= 0; i--)
        {
            long le = ends[i];
            if (le <= start)
            {
                continue; // ended: the heap operator would have evicted it
            }

            if (Kind == JoinKind.Inner)
            {
                Writer.Add(start, end < le ? end : le, payloads[i], payload);
                continue;
            }

            // A match decides a queued left event (its bit); one that has left the queue is matched already.
            if (queued[i] >= _queueHead)
            {
                SetMatched(queued[i]);
            }

            if (Kind == JoinKind.LeftOuter)
            {
                if (direct)
                {
                    Writer.Add(start, end < le ? end : le, payloads[i], payload);
                }
                else
                {
                    Pending.Enqueue(start, end < le ? end : le, payloads[i], payload);
                }
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

        if (SpilledTemporalJoinCounters.KeyFilter && !_filters[side].MayContain(hash))
        {
            _filterSkips++;
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
            loaded.Queued.Clear();
            loaded.Prefix = prefix.ToArray();
            _storeReads++;
            using var cursor = Store.Scan(loaded.Prefix, Layout.SequenceLimit(prefix));
            for (; cursor.Valid; cursor.Next())
            {
                var reader = _read.Load(cursor.Value);
                loaded.Ends.Add(reader.ReadInt64());
                if (side == LeftSide)
                {
                    loaded.Queued.Add(reader.ReadInt64());
                }

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
            _filters[side].Clear();
        }

        _loadedLeft.Forget();
        _loadedRight.Forget();
        _queueHead = _queueTail = 0;
        _frontSequence = -1;
        _frontPayload = default!;
        StoredQueueMinEnd = long.MaxValue;
        UpdateFlags();
    }

    /// <summary>The live events on the heap and the store's checkpoint, written at once (a savepoint; jobs use <see cref="BeginWriteState"/>).</summary>
    public override void WriteState(BinaryWriter writer)
    {
        Store.Commit();
        SpilledJoinSection.WriteNow(writer, Store, CaptureSpilled(), _nextSequence);
    }

    /// <summary>The state on the heap now; the section once the store's checkpoint (its flush, off this thread) has its manifest.</summary>
    public DeferredSection? BeginWriteState() => SpilledJoinSection.Begin(Store, CaptureSpilled, _nextSequence);

    /// <summary>The cut's code with an empty manifest instead of the store's checkpoint, kept nowhere (<see cref="ICheckpointWarmup"/>).</summary>
    public void WarmCheckpointPath() => SpilledJoinSection.Write(BinaryWriter.Null, CaptureSpilled(), _nextSequence, []);

    /// <summary>The heap operator's state and the store's queue's bounds and matched bits (from the queue's head on).</summary>
    private SpilledTemporalJoinState<TLeft, TRight, TKey> CaptureSpilled()
    {
        long first = (_queueHead - _matchedBase) >> 6;
        long last = (_queueTail - _matchedBase + 63) >> 6;
        ulong[] bits = _queueHead < _queueTail ? _matched.AsSpan((int)first, (int)(last - first)).ToArray() : [];
        return new(CaptureState(), _queueHead, _queueTail, _matchedBase + (first * 64), bits, _queueScanned);
    }

    /// <summary>
    /// Loads the store from the manifest (every key group: a join runs on one task at every parallelism), counts its events per key
    /// group and side from the expiry index, then restores the heap's state (buffered events go through the key kernels again).
    /// </summary>
    public override void ReadState(BinaryReader reader)
    {
        var spilled = SpilledJoinSection.Read<SpilledTemporalJoinState<TLeft, TRight, TKey>>(reader, Store, _keyGroups, out _nextSequence);
        _queueHead = spilled.QueueHead;
        _queueTail = spilled.QueueTail;
        _matchedBase = spilled.MatchedBase;
        _matched = spilled.Matched;
        _queueScanned = spilled.QueueScanned;
        _frontSequence = -1;
        StoredQueueMinEnd = long.MaxValue;
        if (_queueHead < _queueTail)
        {
            Layout.WriteQueueExpiry(_queueExpiryKey, _queueScanned, 0);
            using var cursor = Store.Scan(_queueExpiryKey, Layout.QueueExpiryLimit());
            for (; cursor.Valid; cursor.Next())
            {
                long end = Layout.QueueEndOf(cursor.Key);
                if (end > _queueScanned)
                {
                    StoredQueueMinEnd = end;
                    break;
                }
            }
        }

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

            RebuildFilter(side, 2 * _storedTotal[side]);
        }

        _loadedLeft.Forget();
        _loadedRight.Forget();
        UpdateFlags();
        Restore(spilled.Heap);
    }

    /// <summary>The live events of the key read last from the store, oldest first.</summary>
    private sealed class StoredEvents<T>
    {
        public byte[] Prefix { get; set; } = [];

        public List<long> Ends { get; } = [];

        public List<T> Payloads { get; } = [];

        /// <summary>Gets each left event's queue sequence number (-1 when it was not queued when spilled); empty for right events.</summary>
        public List<long> Queued { get; } = [];

        public void Forget()
        {
            Prefix = [];
            Ends.Clear();
            Payloads.Clear();
            Queued.Clear();
        }
    }
}
#pragma warning restore CA1001

/// <summary>Process-wide counts of the spilled interval joins' work (tests: the store was really used). Updated once per round, not per event.</summary>
internal static class SpilledTemporalJoinCounters
{
    /// <summary>Live events written to a store so far.</summary>
    public static long EventsSpilled;

    /// <summary>Left events of left-outer and anti joins written to a store's queue of undecided events so far.</summary>
    public static long QueuedEventsSpilled;

    /// <summary>Range reads of a key's live events in a store so far.</summary>
    public static long StoreReads;

    /// <summary>Live events deleted from a store by the watermark so far.</summary>
    public static long EventsExpiredFromStore;

    /// <summary>Probes whose key group had events in a store but whose key the on-heap key filter ruled out (no read) so far.</summary>
    public static long ProbesSkippedByFilter;

    /// <summary>Key filters built from a store's expiry index so far (growth, and restores).</summary>
    public static long FilterBuilds;

    /// <summary>
    /// Whether probes consult the key filter (default true). Benchmarks turn it off to measure the probe cost without it in the same
    /// process; the filter is maintained either way, so answers do not depend on it.
    /// </summary>
    public static bool KeyFilter = true;
}

/// <summary>The checkpoint state of <see cref="SpilledTemporalJoinOperator{TLeft, TRight, TKey, TResult}"/> besides its store.</summary>
/// <param name="Heap">The heap operator's state (the events on the heap, buffered inputs, held-back pairs, watermarks).</param>
/// <param name="QueueHead">The store's queue's first entry.</param>
/// <param name="QueueTail">The store's queue's next sequence number.</param>
/// <param name="MatchedBase">The queue entry of bit 0 of <paramref name="Matched"/> (a multiple of 64).</param>
/// <param name="Matched">The queued entries' matched flags, from <paramref name="MatchedBase"/> on.</param>
/// <param name="QueueScanned">The time up to which the queue's expiry index was read.</param>
internal sealed record SpilledTemporalJoinState<TLeft, TRight, TKey>(
    JoinState<TLeft, TRight, TKey> Heap, long QueueHead, long QueueTail, long MatchedBase, ulong[] Matched, long QueueScanned);
