using LinqStream.Runtime;
using LinqStream.Temporal;

namespace LinqStream.Parallel.TwoPhase;

/// <summary>
/// Feeds the partial groups of S source tasks into one merging operator as they come (merging is exact in any order, so
/// nothing is buffered or reordered, and there is no state for a checkpoint) and forwards the minimum of their watermarks.
/// Completes when every input has; the first error goes downstream once.
/// </summary>
internal sealed class PartialsFanIn<T>
{
    private readonly IStreamObserver<T> _downstream;
    private readonly BatchPool<T> _pool;
    private readonly long[] _watermarks;
    private readonly FanInput[] _inputs;
    private long _output = Ticks.MinusInfinity;
    private int _completed;
    private bool _failed;

    public PartialsFanIn(IStreamObserver<T> downstream, QueryContext context, int inputCount)
    {
        _downstream = downstream;
        _pool = context.Pool<T>();
        _watermarks = new long[inputCount];
        Array.Fill(_watermarks, Ticks.MinusInfinity);
        _inputs = new FanInput[inputCount];
        for (int i = 0; i < inputCount; i++)
        {
            _inputs[i] = new FanInput(this, i);
        }
    }

    /// <summary>Gets the observer that input <paramref name="index"/> pushes into.</summary>
    public IStreamObserver<T> Input(int index) => _inputs[index];

    private void OnBatch(EventBatch<T> batch)
    {
        if (_failed)
        {
            _pool.Return(batch);
            return;
        }

        _downstream.OnBatch(batch);
    }

    private void OnWatermark(int input, long watermark)
    {
        if (_failed || watermark <= _watermarks[input])
        {
            return;
        }

        _watermarks[input] = watermark;
        long min = Ticks.Infinity;
        foreach (long w in _watermarks)
        {
            min = Math.Min(min, w);
        }

        if (min > _output)
        {
            _output = min;
            _downstream.OnWatermark(min);
        }
    }

    private void OnCompleted(int input)
    {
        if (_failed)
        {
            return;
        }

        OnWatermark(input, Ticks.Infinity);
        if (++_completed == _inputs.Length)
        {
            _downstream.OnCompleted();
        }
    }

    private void OnError(Exception error)
    {
        if (!_failed)
        {
            _failed = true;
            _downstream.OnError(error);
        }
    }

    private sealed class FanInput(PartialsFanIn<T> owner, int index) : IStreamObserver<T>
    {
        public void OnBatch(EventBatch<T> batch) => owner.OnBatch(batch);

        public void OnWatermark(long watermark) => owner.OnWatermark(index, watermark);

        public void OnCompleted() => owner.OnCompleted(index);

        public void OnError(Exception error) => owner.OnError(error);
    }
}
