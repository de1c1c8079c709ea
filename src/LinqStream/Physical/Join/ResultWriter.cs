using System.Runtime.CompilerServices;
using LinqStream.Runtime;

namespace LinqStream.Physical.Join;

/// <summary>Builds output batches of a join: lifetimes go straight into the batch, matched pairs into two columns, and the result kernel runs once per batch.</summary>
internal sealed class ResultWriter<TLeft, TRight, TResult>
{
    private readonly Action<TLeft[], TRight[], TResult[], int> _kernel;
    private readonly BatchPool<TResult> _pool;
    private readonly IStreamObserver<TResult> _downstream;
    private readonly TLeft[] _left;
    private readonly TRight[] _right;
    private EventBatch<TResult>? _batch;
    private int _count;

    public ResultWriter(Action<TLeft[], TRight[], TResult[], int> kernel, BatchPool<TResult> pool, IStreamObserver<TResult> downstream)
    {
        _kernel = kernel;
        _pool = pool;
        _downstream = downstream;
        _left = new TLeft[pool.BatchSize];
        _right = new TRight[pool.BatchSize];
    }

    /// <summary>Gets a value indicating whether the user's result selector is running (so a failure can name it).</summary>
    public bool InKernel { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(long start, long end, TLeft left, TRight right)
    {
        var batch = _batch ??= _pool.Rent();
        int n = _count;
        batch.Start[n] = start;
        batch.End[n] = end;
        _left[n] = left;
        _right[n] = right;
        _count = n + 1;
        if (n + 1 == _left.Length)
        {
            Flush();
        }
    }

    /// <summary>Computes the results of the collected pairs and sends them downstream.</summary>
    public void Flush()
    {
        var batch = _batch;
        int n = _count;
        if (batch is null || n == 0)
        {
            return;
        }

        InKernel = true;
        _kernel(_left, _right, batch.Payload, n);
        InKernel = false;
        ClearPairs(n);
        batch.Count = n;
        _batch = null;
        _count = 0;
        _downstream.OnBatch(batch);
    }

    /// <summary>Drops the collected pairs and returns the batch being built (the query failed).</summary>
    public void Discard()
    {
        ClearPairs(_count);
        if (_batch is not null)
        {
            _batch.Count = _count; // so the pool clears any results the kernel wrote before it failed
            _pool.Return(_batch);
            _batch = null;
        }

        _count = 0;
        InKernel = false;
    }

    private void ClearPairs(int n)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TLeft>())
        {
            Array.Clear(_left, 0, n);
        }

        if (RuntimeHelpers.IsReferenceOrContainsReferences<TRight>())
        {
            Array.Clear(_right, 0, n);
        }
    }
}
