using System.Runtime.CompilerServices;
using LinqStream.Physical.Join;
using LinqStream.Runtime;
using LinqStream.Runtime.Tables;
using LinqStream.Temporal;

namespace LinqStream.Physical.Windows.KeyedFold;

/// <summary>
/// The inner temporal join of the closes (left) with the events they close (right), the filters and projections after it, and
/// the keyed fold of what survives, in one operator (<see cref="JoinKeyedFoldNode"/>; issue #19, NEXMark q4/q9).
/// </summary>
/// <remarks>
/// <para>
/// The join part is <c>TemporalJoinOperator</c>'s inner join, step for step: both inputs buffered until both watermarks pass them,
/// processed in merged start order (left first on ties), ended events evicted before an event that starts at or after their end,
/// a right point event probing the live closes of its key without being kept. Where the join wrote a pair into its result batch,
/// this operator writes the close's live slot and the right event into a pair column; the pair kernel runs the tagged result, the
/// chain, the group's key and the aggregate's input over a whole column at once, and the fold loop adds each kept pair to its group.
/// </para>
/// <para>
/// Groups are <c>(close, key)</c> as in <c>KeyedFoldOperator</c> (<see cref="FoldGroups{TKey, TState}"/>: the same emission at the
/// same watermark, by close, then a null key, then stable key order). Each live close remembers the slot of the group its last kept
/// pair went to, so a pair whose group is that one (q9: every pair of an auction) costs one comparison instead of a table lookup;
/// a pair whose close or key differs (two closes of one group, a key that is not the join key) looks its group up as the fold did.
/// </para>
/// <para>
/// State: the join's live events of both sides, the open groups, nothing per pair, all on the heap. So a job whose keyed state is
/// off the heap (RocksDB) does not get this operator: <c>JoinKeyedFoldFusionPass</c> keeps the unfused plan there, whose join spills
/// the open closes (<see cref="JoinKeyedFoldStream{TLeft, TRight, TKey, TFoldKey, TIn, TState, TAggResult, TAggregate, TResult}"/> refuses
/// to build under such a job).
/// </para>
/// </remarks>
internal sealed partial class JoinKeyedFoldOperator<TLeft, TRight, TKey, TFoldKey, TIn, TState, TAggResult, TAggregate, TResult>
    : BufferedJoinOperator<TLeft, TRight, TKey, TResult>
    where TFoldKey : notnull
    where TAggregate : IAggregate<TIn, TState, TAggResult>
{
    private readonly JoinKeyedFoldKernels<TLeft, TRight, TKey, TFoldKey, TIn, TAggResult, TResult> _kernels;
    private readonly TAggregate _aggregate;
    private readonly LiveEvents<TLeft> _left = new();
    private readonly LiveEvents<TRight> _right = new();
    private readonly ExpiryHeap _leftExpiry = new();
    private readonly ExpiryHeap _rightExpiry = new();
    private readonly KeyTable<TKey> _keys = new();
    private readonly FoldGroups<TFoldKey, TState> _groups = new();
    private readonly BatchPool<TResult> _outputPool;

    // The matched pairs not folded yet: the close's live slot and the right event, and what the pair kernel makes of them.
    private readonly int[] _pairSlot;
    private readonly TRight[] _pairRight;
    private readonly bool[] _pairKept;
    private readonly long[] _pairClose;
    private readonly TFoldKey[] _pairKey;
    private readonly TIn[] _pairInput;
    private int _pairCount;

    // Per live close slot: the group slot its last kept pair went to, or -1.
    private int[] _groupOf = [];
    private EventBatch<TResult>? _output;
    private UserStage _stage;

    public JoinKeyedFoldOperator(
        IStreamObserver<TResult> downstream,
        QueryContext context,
        JoinKeyedFoldKernels<TLeft, TRight, TKey, TFoldKey, TIn, TAggResult, TResult> kernels,
        TAggregate aggregate)
        : base(downstream, context, kernels)
    {
        _kernels = kernels;
        _aggregate = aggregate;
        _outputPool = context.Pool<TResult>();
        int size = Math.Max(64, _outputPool.BatchSize);
        _pairSlot = new int[size];
        _pairRight = new TRight[size];
        _pairKept = new bool[size];
        _pairClose = new long[size];
        _pairKey = new TFoldKey[size];
        _pairInput = new TIn[size];
        context.Operators.Add(this);
        context.Checkpointed.Add(this);
    }

    /// <summary>Gets the number of live closes (left events) held.</summary>
    public int LeftLiveCount => _left.Count;

    /// <summary>Gets the number of live right events held (none when the right events are points).</summary>
    public int RightLiveCount => _right.Count;

    /// <summary>Gets the number of open groups.</summary>
    public int OpenGroups => _groups.Count;

    /// <summary>The user code running outside the key kernels (named by a failure): computed only when one fails.</summary>
    protected override string? RunningExpression => _stage switch
    {
        UserStage.Pairs => _kernels.PairExpression,
        UserStage.Fold => $"{_kernels.Lambdas.Input} into the aggregate",
        UserStage.Result => _kernels.Lambdas.Result.ToString(),
        _ => null,
    };

    /// <summary>Joins and folds every buffered event that starts before <paramref name="watermark"/>, frees what ended, and emits the groups that closed.</summary>
    protected override void Round(long watermark)
    {
        ProcessUpTo(watermark);
        FoldPairs();
        Frontier = watermark;
        Evict(watermark);
        if (watermark == Ticks.Infinity || _keys.CandidateCount > TemporalJoinOperator<TLeft, TRight, TKey, TResult>.SweepSlack + (_keys.Count >> 1))
        {
            _keys.Sweep();
        }

        if (watermark > OutputWatermark)
        {
            EmitBefore(watermark);
            OutputWatermark = watermark;
            Downstream.OnWatermark(watermark);
        }
    }

    /// <summary>The query failed: every pooled batch back to its pool, and the state dropped, its arrays back to the shared array pool.</summary>
    protected override void ReleaseAll()
    {
        LeftInput.Clear();
        RightInput.Clear();
        ReleaseTables();
        ClearPairs(_pairCount);
        _pairCount = 0;
        if (_output is not null)
        {
            _outputPool.Return(_output);
            _output = null;
        }
    }

    /// <summary>The run ended (the last round emitted every group and freed every live event): the tables' arrays back to the shared array pool.</summary>
    protected override void Finished() => ReleaseTables();

    /// <summary>
    /// Empties the join's live events, expiry queues and keys, the groups and the close cache, and gives their arrays back to the
    /// shared array pool (issue #19: the next run of the query grows into them instead of allocating them again). Each table replaces
    /// its arrays before giving them back, so nothing here reads a returned array, and a second call gives nothing back twice.
    /// </summary>
    private void ReleaseTables()
    {
        _left.Release();
        _right.Release();
        _leftExpiry.Release();
        _rightExpiry.Release();
        _keys.Release();
        _groups.Release();
        PooledArrays.Release(ref _groupOf);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AddPair(int leftSlot, TRight right)
    {
        int n = _pairCount;
        _pairSlot[n] = leftSlot;
        OwnedArrays.Store(_pairRight, n, right);
        _pairCount = n + 1;
        if (n + 1 == _pairSlot.Length)
        {
            FoldPairs();
        }
    }

    /// <summary>Runs the pair kernel over the pairs collected and adds each kept one to its group; before any live slot is freed.</summary>
    private void FoldPairs()
    {
        int n = _pairCount;
        if (n == 0)
        {
            return;
        }

        var kept = _pairKept;
        var closes = _pairClose;
        var keys = _pairKey;
        var inputs = _pairInput;
        var slots = _pairSlot;
        _stage = UserStage.Pairs;
        _kernels.Pairs(_left.Payload, slots, _pairRight, n, kept, closes, keys, inputs);
        _stage = UserStage.Fold;
        var groupOf = _groupOf;
        for (int i = 0; i < n; i++)
        {
            if (!kept[i])
            {
                continue;
            }

            int l = slots[i];
            int g = groupOf[l];
            long close = closes[i];
            var entries = _groups.Slots;
            if (g < 0 || entries[g].Close != close || !EqualityComparer<TFoldKey>.Default.Equals(entries[g].Key, keys[i]))
            {
                g = _groups.GetOrOpen(close, keys[i], out bool opened);
                entries = _groups.Slots;
                if (opened)
                {
                    entries[g].State = _aggregate.Initial();
                }

                groupOf[l] = g;
            }

            ref var group = ref entries[g];
            group.State = _aggregate.Add(group.State, inputs[i]);
        }

        _stage = UserStage.None;
        ClearPairs(n);
        _pairCount = 0;
    }

    private void ClearPairs(int n)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TRight>())
        {
            Array.Clear(_pairRight, 0, n);
        }

        if (RuntimeHelpers.IsReferenceOrContainsReferences<TFoldKey>())
        {
            Array.Clear(_pairKey, 0, n);
        }

        if (RuntimeHelpers.IsReferenceOrContainsReferences<TIn>())
        {
            Array.Clear(_pairInput, 0, n);
        }
    }

    private void GrowGroupOf()
    {
        int old = _groupOf.Length;
        PooledArrays.Resize(ref _groupOf, _left.Capacity, old);
        Array.Fill(_groupOf, -1, old, _groupOf.Length - old);
    }

    /// <summary>Emits every group whose close is below <paramref name="watermark"/>, as <c>KeyedFoldOperator</c> does.</summary>
    private void EmitBefore(long watermark)
    {
        _stage = UserStage.Result;
        while (_groups.TryTakeNext(watermark, out int slot))
        {
            ref var group = ref _groups.Slots[slot];
            long close = group.Close;
            long end = Ticks.SaturatingAdd(close, 1);
            var result = _kernels.Result(group.Key, close, end, _aggregate.Result(group.State));
            _groups.Release(slot);
            var output = _output ??= _outputPool.Rent();
            output.Add(close, end, result);
            if (output.IsFull)
            {
                _output = null;
                Downstream.OnBatch(output);
            }
        }

        _stage = UserStage.None;
        if (_output is { } last)
        {
            _output = null;
            Downstream.OnBatch(last);
        }
    }

    /// <summary>Which user code runs between the rounds' steps.</summary>
    private enum UserStage
    {
        None,
        Pairs,
        Fold,
        Result,
    }
}
