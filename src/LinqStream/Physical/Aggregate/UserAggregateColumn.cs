using LinqStream.Physical.Kernels;
namespace LinqStream.Physical.Aggregate;

/// <summary>A user's <see cref="IAggregate{TInput, TState, TResult}"/>: its state per slot.</summary>
internal sealed class UserAggregateColumn<T, TInput, TState, TResult, TAggregate> : ValueAggregateColumn<T, TInput>
    where TAggregate : IAggregate<TInput, TState, TResult>
{
    private readonly TAggregate _aggregate;
    private TState[] _states = [];
    private bool[] _started = [];

    public UserAggregateColumn(string description, AggregateInput input, TAggregate aggregate, KernelCompiler kernels)
        : base(description, input, kernels) => _aggregate = aggregate;

    public override void Grow(int capacity)
    {
        Array.Resize(ref _states, capacity);
        Array.Resize(ref _started, capacity);
    }

    public override void Accumulate(int[] slots, int count)
    {
        var include = Include;
        var values = Values;
        for (int i = 0; i < count; i++)
        {
            int s = slots[i];
            if (s >= 0 && include[i])
            {
                if (!_started[s])
                {
                    _states[s] = _aggregate.Initial();
                    _started[s] = true;
                }

                _states[s] = _aggregate.Add(_states[s], values[i]);
            }
        }
    }

    public override void Clear(int slot)
    {
        _states[slot] = default!;
        _started[slot] = false;
    }

    public override Type SlotType => typeof((TState, bool));

    public override object? CaptureSlot(int slot) => (_states[slot], _started[slot]);

    // A user's state object may be changed in place by its Add: only a state without references is a copy.
    public override bool CaptureIsACopy => !System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<TState>();

    public override void RestoreSlot(int slot, object? state) => (_states[slot], _started[slot]) = ((TState, bool))state!;

    public TResult Result(int slot) => _aggregate.Result(_started[slot] ? _states[slot] : _aggregate.Initial());
}
