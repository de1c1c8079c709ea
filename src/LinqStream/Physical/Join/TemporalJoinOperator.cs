using LinqStream.Runtime;
using LinqStream.Temporal;

namespace LinqStream.Physical.Join;

/// <summary>
/// The temporal equi-join of two streams: an event of one input matches each event of the other input whose key is equal
/// and whose lifetime overlaps its own. <see cref="JoinKind"/> decides what the matches produce (inner, left outer, anti).
/// </summary>
/// <remarks>
/// <para>
/// Lifetimes: an inner result lives in the intersection <c>[max(starts), min(ends))</c> of its pair; an outer or anti
/// result has the left event's lifetime. Null keys never match (as in SQL); events with an empty lifetime are dropped.
/// </para>
/// <para>
/// Algorithm: each input's batches are buffered until both watermarks pass them; then the buffered events of both
/// sides with <c>Start</c> below <c>W = min(left watermark, right watermark)</c> are processed in merged start order (left
/// first on ties). An event first evicts, from both sides, every live event whose end is at or before its start; then
/// it probes the other side's live events of its key (which are exactly those overlapping it, as they started no later
/// and end after its start), and joins its own side's live state. So each overlapping pair is found once, by its later
/// event, and every result starts when that event does: inner results come out in start order with no buffering.
/// </para>
/// <para>
/// State: per key, the live events of each side; after processing up to <c>W</c> it holds exactly the processed events
/// with <c>End &gt; W</c> (plus, in outer modes, ended left events waiting behind an undecided one; the anti-join keeps
/// no left event that met a right event on arrival). Output watermark: <c>W</c> for the inner join; outer modes hold it
/// back to the start of the earliest undecided left event (see <see cref="Pump"/>).
/// </para>
/// </remarks>
internal partial class TemporalJoinOperator<TLeft, TRight, TKey, TResult> : BufferedJoinOperator<TLeft, TRight, TKey, TResult>
{
    /// <summary>How many empty key entries may wait for a sweep beyond half the table.</summary>
    public const int SweepSlack = 4096;

    private readonly JoinKind _kind;
    private readonly LiveEvents<TLeft> _left = new();
    private readonly LiveEvents<TRight> _right = new();
    private readonly ExpiryHeap _leftExpiry = new();
    private readonly ExpiryHeap _rightExpiry = new();
    private readonly KeyTable<TKey> _keys = new();

    /// <summary>Outer modes: left slots in start order whose result is not released yet; the front decides the output watermark.</summary>
    private readonly Queue<int> _undecided = new();
    private readonly PendingResults<TLeft, TRight> _pending = new();

    public TemporalJoinOperator(IStreamObserver<TResult> downstream, QueryContext context, JoinKernels<TLeft, TRight, TKey, TResult> kernels)
        : base(downstream, context, kernels)
    {
        _kind = kernels.Kind;
        context.Operators.Add(this);
        context.Checkpointed.Add(this);
    }

    /// <summary>Gets the number of processed left events held (alive at the frontier, or waiting for an outer decision).</summary>
    public int LeftLiveCount => _left.Count;

    /// <summary>Gets the number of processed right events held (alive at the frontier).</summary>
    public int RightLiveCount => _right.Count;

    /// <summary>Gets the number of keys in the state, including empty entries not yet swept.</summary>
    public int KeyCount => _keys.Count;

    /// <summary>Processes every buffered event that starts before <paramref name="watermark"/>, frees what ended, and moves the output watermark.</summary>
    protected override void Round(long watermark)
    {
        ProcessUpTo(watermark);
        Frontier = watermark;
        Evict(watermark);
        long output = _kind == JoinKind.Inner ? watermark : Pump(watermark);

        // Empty key entries are swept in bulk, when they outnumber the keys in use by a margin, or at the end; so the
        // table holds at most 2 * (keys with live events) + 2 * SweepSlack entries, and a busy key is not removed and
        // re-added at every round.
        if (watermark == Ticks.Infinity || _keys.CandidateCount > SweepSlack + (_keys.Count >> 1))
        {
            _keys.Sweep();
        }

        if (CompactionEnabled && (_left.ShouldCompact || _right.ShouldCompact))
        {
            Compact();
        }

        Writer.Flush();
        if (output > OutputWatermark)
        {
            OutputWatermark = output;
            Downstream.OnWatermark(output);
        }
    }

    /// <summary>
    /// Gets or sets a value indicating whether a store may hold live left events (<c>SpilledTemporalJoinOperator</c> on RocksDB); never
    /// set on the heap backend, so its cost there is one untaken branch per right event.
    /// </summary>
    private protected bool StoreHasLeft { get; set; }

    /// <summary>Gets or sets a value indicating whether a store may hold live right events (as <see cref="StoreHasLeft"/>).</summary>
    private protected bool StoreHasRight { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether a store holds the oldest part of the outer join's queue of undecided left events
    /// (<c>SpilledTemporalJoinOperator</c>): its entries come before those of the heap's queue. Never set on the heap backend.
    /// </summary>
    private protected bool StoreHasQueue { get; set; }

    /// <summary>
    /// Gets or sets the earliest end, after the last eviction, among the store's queued left events (<see cref="long.MaxValue"/> when
    /// there is none, always on the heap backend): an event starting at or after it evicts, as one on the heap would.
    /// </summary>
    private protected long StoredQueueMinEnd { get; set; } = long.MaxValue;

    /// <summary>Gets the heap's queue of undecided left slots (outer modes), in start order.</summary>
    private protected Queue<int> Undecided => _undecided;

    /// <summary>Gets a value indicating whether a pair may go straight to the output: no left event is undecided and nothing is held back.</summary>
    private protected bool NothingUndecided => _undecided.Count == 0 && _pending.Count == 0 && !StoreHasQueue;

    private protected JoinKind Kind => _kind;

    private protected KeyTable<TKey> Keys => _keys;

    private protected LiveEvents<TLeft> LeftLive => _left;

    private protected LiveEvents<TRight> RightLive => _right;

    private protected ExpiryHeap LeftExpiry => _leftExpiry;

    private protected ExpiryHeap RightExpiry => _rightExpiry;

    private protected PendingResults<TLeft, TRight> Pending => _pending;

    /// <summary>
    /// Gives a left event's pairs with the live right events of its key in a store (all older than those on the heap, so they come
    /// after them, newest first) and returns whether there was one. The heap operator has no store: it is never called there.
    /// </summary>
    private protected virtual bool ProbeStoredRight(TKey key, long start, long end, TLeft payload, bool direct) => false;

    /// <summary>
    /// Gives a right event's pairs with the live left events of its key in a store, after those on the heap (and, in outer modes, marks
    /// them matched); <paramref name="direct"/> as for <see cref="ProbeStoredRight"/>.
    /// </summary>
    private protected virtual void ProbeStoredLeft(TKey key, long start, long end, TRight payload, bool direct)
    {
    }

    /// <summary>
    /// Called by an eviction at <paramref name="time"/> when <see cref="StoredQueueMinEnd"/> is at or before it: returns whether a
    /// queued left event in the store ended (so the queue's front may be decided), and moves <see cref="StoredQueueMinEnd"/> on.
    /// </summary>
    private protected virtual bool EvictStoredQueue(long time) => false;

    /// <summary>
    /// Releases the decided entries at the front of the store's part of the queue, as <see cref="Pump"/> does on the heap; returns
    /// false with the start of the first undecided one, or true when the store's part is empty (then the heap's queue goes on).
    /// </summary>
    private protected virtual bool PumpStoredQueue(long frontier, out long undecidedStart)
    {
        undecidedStart = frontier;
        return true;
    }

    /// <summary>Gets or sets a value indicating whether the state is compacted after a burst (tests turn it off to compare outputs).</summary>
    internal bool CompactionEnabled { get; set; } = true;

    /// <summary>Gets the number of live-event slots the two inputs' columns have room for (tests: it shrinks after a burst).</summary>
    internal int LiveCapacity => _left.Capacity + _right.Capacity;

    /// <summary>Gets the number of key entries the key table has room for (tests: it shrinks after a burst of keys).</summary>
    internal int KeyCapacity => _keys.Capacity;

    /// <summary>
    /// Gives memory back after a burst (many events alive at once, then few): the live events of both inputs move down to slots
    /// 0, 1, 2... in their order, the key table drops its empty entries, and every structure holding slots or entries (the key
    /// lists' heads, the expiry queues, the outer join's queue) is renumbered; the held-back results, the buffered inputs' spare
    /// key arrays and the batch pools shrink too. Runs between rounds (no event is half processed) and only when a side's columns
    /// are three quarters empty, so its cost, linear in what is live, is paid once per burst.
    /// </summary>
    private void Compact()
    {
        var leftMap = _left.Compact();
        _keys.RemapHeads(KeyTable<TKey>.Left, leftMap);
        _leftExpiry.Remap(leftMap);
        int undecided = _undecided.Count;
        for (int k = 0; k < undecided; k++)
        {
            _undecided.Enqueue(leftMap[_undecided.Dequeue()]);
        }

        _undecided.TrimExcess();

        var rightMap = _right.Compact();
        _keys.RemapHeads(KeyTable<TKey>.Right, rightMap);
        _rightExpiry.Remap(rightMap);

        var entryMap = _keys.Compact();
        _left.RemapEntries(entryMap);
        _right.RemapEntries(entryMap);

        _pending.TrimExcess();
        LeftInput.TrimExcess();
        RightInput.TrimExcess();
        Context.TrimPools();
    }

    /// <summary>Returns every pooled batch this operator holds and drops its state (the query failed).</summary>
    protected override void ReleaseAll()
    {
        LeftInput.Clear();
        RightInput.Clear();
        Writer.Discard();
        _left.Clear();
        _right.Clear();
        _leftExpiry.Clear();
        _rightExpiry.Clear();
        _keys.Clear();
        _undecided.Clear();
        _pending.Clear();
    }
}
