using System.Runtime.CompilerServices;
using LinqStream.Runtime;

namespace LinqStream.Physical.Join;

/// <summary>Builds output batches of a join: lifetimes go straight into the batch, matched pairs into two columns, and the result kernel runs once per batch.</summary>
internal sealed class ResultWriter<TLeft, TRight, TResult>
{
    private readonly Action<TLeft[], TRight[], TResult[], int> _kernel;
    private readonly BatchPool<TResult> _pool;
    private readonly IStreamObserver<TResult> _downstream;
    private readonly UserCodeFailures _failures;
    private readonly TLeft[] _left;
    private readonly TRight[] _right;
    private EventBatch<TResult>? _batch;
    private int _count;

    /// <param name="kernel">The compiled result kernel.</param>
    /// <param name="pool">Where output batches come from.</param>
    /// <param name="downstream">Where they go.</param>
    /// <param name="failures">The per-event error policy for the result selector (a failing pair is skipped or stops the query).</param>
    public ResultWriter(Action<TLeft[], TRight[], TResult[], int> kernel, BatchPool<TResult> pool, IStreamObserver<TResult> downstream, UserCodeFailures failures)
    {
        _failures = failures;
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
        OwnedArrays.Store(_left, n, left); // no covariant store check: a cold left event is not read here
        OwnedArrays.Store(_right, n, right);
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
        batch.Count = n;
        try
        {
            _kernel(_left, _right, batch.Payload, n);
        }
        catch (Exception ex) when (ex is not QueryExecutionException)
        {
            RunPairByPair(batch, n);
        }

        InKernel = false;
        ClearPairs(n);
        _batch = null;
        _count = 0;
        if (batch.LiveCount() == 0)
        {
            _pool.Return(batch);
            return;
        }

        _downstream.OnBatch(batch);
    }

    /// <summary>
    /// Re-runs the result selector one pair at a time after it threw for the batch: a failing pair's result is marked absent and
    /// dead-lettered with the pair as its record (the events of both sides), or its error stops the query, as the policy says.
    /// </summary>
    private void RunPairByPair(EventBatch<TResult> batch, int n)
    {
        var left = new TLeft[1];
        var right = new TRight[1];
        var result = new TResult[1];
        for (int i = 0; i < n; i++)
        {
            left[0] = _left[i];
            right[0] = _right[i];
            try
            {
                _kernel(left, right, result, 1);
                batch.Payload[i] = result[0];
            }
            catch (Exception ex)
            {
                if (_failures.Skip(ex, batch.Start[i], (_left[i], _right[i])) is { } stop)
                {
                    throw stop;
                }

                batch.SetAbsent(i);
            }
        }
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
