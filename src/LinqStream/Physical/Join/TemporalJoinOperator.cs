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
internal sealed partial class TemporalJoinOperator<TLeft, TRight, TKey, TResult>
{
    /// <summary>How many empty key entries may wait for a sweep beyond half the table.</summary>
    public const int SweepSlack = 4096;

    private readonly JoinKernels<TLeft, TRight, TKey, TResult> _kernels;
    private readonly JoinKind _kind;
    private readonly IStreamObserver<TResult> _downstream;
    private readonly QueryContext _context;
    private readonly BatchPool<TLeft> _leftPool;
    private readonly BatchPool<TRight> _rightPool;
    private readonly InputQueue<TLeft, TKey> _leftInput;
    private readonly InputQueue<TRight, TKey> _rightInput;
    private readonly LiveEvents<TLeft> _left = new();
    private readonly LiveEvents<TRight> _right = new();
    private readonly ExpiryHeap _leftExpiry = new();
    private readonly ExpiryHeap _rightExpiry = new();
    private readonly KeyTable<TKey> _keys = new();

    /// <summary>Outer modes: left slots in start order whose result is not released yet; the front decides the output watermark.</summary>
    private readonly Queue<int> _undecided = new();
    private readonly PendingResults<TLeft, TRight> _pending = new();
    private readonly ResultWriter<TLeft, TRight, TResult> _writer;
    private readonly UserCodeFailures _leftKeyFailures;
    private readonly UserCodeFailures _rightKeyFailures;

    private long _leftWatermark = Ticks.MinusInfinity;
    private long _rightWatermark = Ticks.MinusInfinity;
    private long _frontier = Ticks.MinusInfinity;
    private long _outputWatermark = Ticks.MinusInfinity;
    private bool _leftCompleted;
    private bool _rightCompleted;
    private bool _faulted;
    private bool _done;

    public TemporalJoinOperator(IStreamObserver<TResult> downstream, QueryContext context, JoinKernels<TLeft, TRight, TKey, TResult> kernels)
    {
        kernels.CompileKernels(); // a no-op after the compiler's last stage
        _kernels = kernels;
        _kind = kernels.Kind;
        _downstream = downstream;
        _context = context;
        _leftPool = context.Pool<TLeft>();
        _rightPool = context.Pool<TRight>();
        _leftInput = new InputQueue<TLeft, TKey>(_leftPool);
        _rightInput = new InputQueue<TRight, TKey>(_rightPool);
        _leftKeyFailures = new UserCodeFailures(context, kernels.OperatorName, kernels.LeftKeySelector.ToString());
        _rightKeyFailures = new UserCodeFailures(context, kernels.OperatorName, kernels.RightKeySelector.ToString());
        _writer = new ResultWriter<TLeft, TRight, TResult>(
            kernels.Result, context.Pool<TResult>(), downstream, new UserCodeFailures(context, kernels.OperatorName, kernels.ResultSelector.ToString()));
        Left = new LeftObserver(this);
        Right = new RightObserver(this);
        context.Checkpointed.Add(this);
    }

    /// <summary>Gets the observer the left input pushes into.</summary>
    public IStreamObserver<TLeft> Left { get; }

    /// <summary>Gets the observer the right input pushes into.</summary>
    public IStreamObserver<TRight> Right { get; }

    /// <summary>Gets the number of processed left events held (alive at the frontier, or waiting for an outer decision).</summary>
    public int LeftLiveCount => _left.Count;

    /// <summary>Gets the number of processed right events held (alive at the frontier).</summary>
    public int RightLiveCount => _right.Count;

    /// <summary>Gets the time before which every buffered event has been processed (the smaller input watermark, once processed).</summary>
    public long Frontier => _frontier;

    /// <summary>Gets the number of keys in the state, including empty entries not yet swept.</summary>
    public int KeyCount => _keys.Count;

    private void OnLeftBatch(EventBatch<TLeft> batch)
    {
        if (_faulted || _done)
        {
            _leftPool.Return(batch);
            return;
        }

        var keys = _leftInput.RentKeys(batch.Capacity);
        try
        {
            _kernels.LeftKey(batch.Payload, batch.Absent, keys, batch.Count);
        }
        catch (Exception ex) when (ex is not QueryExecutionException)
        {
            // Rare path: find the event(s) whose key selector throws; the policy skips them (marked absent) or stops the query.
            if (_leftKeyFailures.IsolateColumn(_kernels.LeftKey, batch, keys) is { } stop)
            {
                _leftInput.ReturnKeys(keys, batch.Count);
                _leftPool.Return(batch);
                Fail(stop, _kernels.LeftKeySelector.ToString());
                return;
            }
        }

        _leftInput.Enqueue(batch, keys);
    }

    private void OnRightBatch(EventBatch<TRight> batch)
    {
        if (_faulted || _done)
        {
            _rightPool.Return(batch);
            return;
        }

        var keys = _rightInput.RentKeys(batch.Capacity);
        try
        {
            _kernels.RightKey(batch.Payload, batch.Absent, keys, batch.Count);
        }
        catch (Exception ex) when (ex is not QueryExecutionException)
        {
            // Rare path: find the event(s) whose key selector throws; the policy skips them (marked absent) or stops the query.
            if (_rightKeyFailures.IsolateColumn(_kernels.RightKey, batch, keys) is { } stop)
            {
                _rightInput.ReturnKeys(keys, batch.Count);
                _rightPool.Return(batch);
                Fail(stop, _kernels.RightKeySelector.ToString());
                return;
            }
        }

        _rightInput.Enqueue(batch, keys);
    }

    private void OnInputWatermark(long watermark, bool left)
    {
        if (_faulted || _done)
        {
            return;
        }

        if (left)
        {
            _leftWatermark = Math.Max(_leftWatermark, watermark);
        }
        else
        {
            _rightWatermark = Math.Max(_rightWatermark, watermark);
        }

        long both = Math.Min(_leftWatermark, _rightWatermark);
        if (both > _frontier)
        {
            RoundGuarded(both);
        }
    }

    private void OnInputCompleted(bool left)
    {
        if (_faulted || _done)
        {
            return;
        }

        // A completed input sends nothing more: its watermark is +infinity even if it did not say so.
        if (left)
        {
            _leftCompleted = true;
        }
        else
        {
            _rightCompleted = true;
        }

        OnInputWatermark(Ticks.Infinity, left);
        if (_faulted || !_leftCompleted || !_rightCompleted)
        {
            return;
        }

        _done = true;
        _downstream.OnCompleted();
    }

    private void OnInputError(Exception error)
    {
        if (_faulted || _done)
        {
            return;
        }

        _faulted = true;
        ReleaseAll();
        _downstream.OnError(error);
    }

    /// <summary>Runs <see cref="Round"/>, turning a failure of the user's code into a stream error.</summary>
    /// <returns><see langword="false"/> when the round failed.</returns>
    private bool RoundGuarded(long watermark)
    {
        try
        {
            Round(watermark);
            return true;
        }
        catch (Exception ex)
        {
            // Outside the result kernel the only user code that runs is the key type's Equals/GetHashCode.
            Fail(ex, _writer.InKernel ? _kernels.ResultSelector.ToString() : _kernels.Condition);
            return false;
        }
    }

    /// <summary>Processes every buffered event that starts before <paramref name="watermark"/>, frees what ended, and moves the output watermark.</summary>
    private void Round(long watermark)
    {
        ProcessUpTo(watermark);
        _frontier = watermark;
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

        _writer.Flush();
        if (output > _outputWatermark)
        {
            _outputWatermark = output;
            _downstream.OnWatermark(output);
        }
    }

    private void Fail(Exception error, string expression)
    {
        if (_faulted)
        {
            return;
        }

        _faulted = true;
        ReleaseAll();
        _downstream.OnError(Internal.Error.OperatorFailed(_kernels.OperatorName, expression, error));
        _context.Stop();
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
        _leftInput.TrimExcess();
        _rightInput.TrimExcess();
        _context.TrimPools();
    }

    /// <summary>Returns every pooled batch this operator holds and drops its state (the query failed).</summary>
    private void ReleaseAll()
    {
        _leftInput.Clear();
        _rightInput.Clear();
        _writer.Discard();
        _left.Clear();
        _right.Clear();
        _leftExpiry.Clear();
        _rightExpiry.Clear();
        _keys.Clear();
        _undecided.Clear();
        _pending.Clear();
    }

    private sealed class LeftObserver(TemporalJoinOperator<TLeft, TRight, TKey, TResult> owner) : IStreamObserver<TLeft>
    {
        public void OnBatch(EventBatch<TLeft> batch) => owner.OnLeftBatch(batch);

        public void OnWatermark(long watermark) => owner.OnInputWatermark(watermark, left: true);

        public void OnCompleted() => owner.OnInputCompleted(left: true);

        public void OnError(Exception error) => owner.OnInputError(error);
    }

    private sealed class RightObserver(TemporalJoinOperator<TLeft, TRight, TKey, TResult> owner) : IStreamObserver<TRight>
    {
        public void OnBatch(EventBatch<TRight> batch) => owner.OnRightBatch(batch);

        public void OnWatermark(long watermark) => owner.OnInputWatermark(watermark, left: false);

        public void OnCompleted() => owner.OnInputCompleted(left: false);

        public void OnError(Exception error) => owner.OnInputError(error);
    }
}
