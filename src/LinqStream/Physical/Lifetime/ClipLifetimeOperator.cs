using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LinqStream.Runtime;
using LinqStream.Temporal;

namespace LinqStream.Physical.Lifetime;

/// <summary>Clips each event's end at the next later start of its key; holds events back until their end is decided.</summary>
/// <remarks>
/// Held events sit in a FIFO (a ring buffer of columns, in arrival = start order). Per key, a table entry links the
/// undecided events of the key's latest start (several when starts tie); the next strictly later event of the key clips
/// and decides them all. The FIFO head leaves when it is decided or the watermark reached its end, so output keeps start
/// order and the output watermark is <c>min(input watermark, start of the FIFO head)</c>. Every event is linked, clipped
/// and released once: amortized O(1) per event, no allocation except when the FIFO or the key table grows.
/// </remarks>
internal sealed class ClipLifetimeOperator<T, TKey> : UnaryOperator<T, T>, Runtime.Checkpoints.ICheckpointed
    where TKey : notnull
{
    private const string OperatorName = "ClipLifetime";
    private const int InitialCapacity = 1024;

    private readonly Action<T[], ulong[]?, TKey[], int> _keyKernel;
    private readonly UserCodeFailures _failures;
    private readonly BatchPool<T> _pool;
    private readonly Dictionary<TKey, KeyGroup> _groups = [];
    private KeyGroup _nullGroup;
    private bool _hasNullGroup;
    private TKey[] _keys = [];

    // The held event with sequence number s lives at index s & _mask; _next links the members of a key group by sequence.
    private long[] _start = new long[InitialCapacity];
    private long[] _end = new long[InitialCapacity];
    private T[] _payload = new T[InitialCapacity];
    private TKey[] _heldKey = new TKey[InitialCapacity];
    private long[] _next = new long[InitialCapacity];
    private bool[] _decided = new bool[InitialCapacity];
    private int _mask = InitialCapacity - 1;
    private long _headSeq;
    private long _tailSeq;

    private long _inputWatermark = Ticks.MinusInfinity;
    private long _outputWatermark = Ticks.MinusInfinity;
    private EventBatch<T>? _output;

    public ClipLifetimeOperator(IStreamObserver<T> downstream, QueryContext context, Action<T[], ulong[]?, TKey[], int> keyKernel, string expression)
        : base(downstream, context)
    {
        _keyKernel = keyKernel;
        _failures = new UserCodeFailures(context, OperatorName, expression);
        _pool = context.Pool<T>();
    }

    /// <summary>Gets the number of events held back.</summary>
    public int HeldCount => (int)(_tailSeq - _headSeq);

    /// <summary>Gets the number of keys with undecided events.</summary>
    public int PendingKeyCount => _groups.Count + (_hasNullGroup ? 1 : 0);

    public override void OnBatch(EventBatch<T> batch)
    {
        if (Faulted)
        {
            _pool.Return(batch);
            return;
        }

        int count = batch.Count;
        if (_failures.RunColumn(_keyKernel, batch, ref _keys) is { } stop)
        {
            // A key selector threw and the policy stops the query (skipped events are marked absent instead).
            ClearKeys(count);
            _pool.Return(batch);
            FailWith(stop);
            Discard();
            return;
        }

        var start = batch.Start;
        var end = batch.End;
        var payload = batch.Payload;
        var keys = _keys;
        for (int i = 0; i < count; i++)
        {
            if (batch.IsAbsent(i))
            {
                continue;
            }

            Hold(start[i], end[i], payload[i], keys[i]);
        }

        ClearKeys(count);
        _pool.Return(batch);
        Release(_inputWatermark);
        Flush();
    }

    public override void OnWatermark(long watermark)
    {
        if (Faulted || watermark <= _inputWatermark)
        {
            return;
        }

        _inputWatermark = watermark;
        Release(watermark);
        Flush();
        long output = _headSeq < _tailSeq ? Math.Min(watermark, _start[(int)(_headSeq & _mask)]) : watermark;
        if (output > _outputWatermark)
        {
            _outputWatermark = output;
            Downstream.OnWatermark(output);
        }
    }

    public override void OnCompleted()
    {
        if (Faulted)
        {
            return;
        }

        OnWatermark(Ticks.Infinity);
        Downstream.OnCompleted();
    }

    public override void OnError(Exception error)
    {
        base.OnError(error);
        Discard();
    }

    /// <summary>Copies the state out as plain data.</summary>
    public string CheckpointName => "ClipLifetime";

    public void WriteState(BinaryWriter writer) => Runtime.Checkpoints.StateCodec.Write(writer, CaptureState(), typeof(ClipLifetimeState<T, TKey>));

    public void ReadState(BinaryReader reader) => RestoreState((ClipLifetimeState<T, TKey>)Runtime.Checkpoints.StateCodec.Read(reader, typeof(ClipLifetimeState<T, TKey>))!);

    public ClipLifetimeState<T, TKey> CaptureState()
    {
        var held = new List<ClipHeldEvent<T, TKey>>(HeldCount);
        for (long seq = _headSeq; seq < _tailSeq; seq++)
        {
            int i = (int)(seq & _mask);
            held.Add(new ClipHeldEvent<T, TKey>(_start[i], _end[i], _heldKey[i], _payload[i], _decided[i]));
        }

        return new ClipLifetimeState<T, TKey>(_inputWatermark, _outputWatermark, held);
    }

    /// <summary>Loads a state captured by <see cref="CaptureState"/>; call before the operator receives any input.</summary>
    public void RestoreState(ClipLifetimeState<T, TKey> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        foreach (var held in state.Held)
        {
            // Hold links an undecided event into its key's group; a decided one only takes its place in the FIFO.
            Hold(held.Start, held.End, held.Payload, held.Key, link: !held.Decided);
            _decided[(int)((_tailSeq - 1) & _mask)] = held.Decided;
        }

        _inputWatermark = state.InputWatermark;
        _outputWatermark = state.OutputWatermark;
    }

    private void Hold(long start, long end, T payload, TKey key, bool link = true)
    {
        if (_tailSeq - _headSeq == _start.Length)
        {
            Grow();
        }

        long seq = _tailSeq++;
        int i = (int)(seq & _mask);
        _start[i] = start;
        _end[i] = end;
        _payload[i] = payload;
        _heldKey[i] = key;
        _next[i] = -1;
        _decided[i] = false;
        if (!link)
        {
            return;
        }

        ref var group = ref Group(key, out bool exists);
        if (exists && start == group.Start)
        {
            // A tie: the same later event will clip both.
            _next[(int)(group.Last & _mask)] = seq;
            group.Last = seq;
            return;
        }

        if (exists)
        {
            Clip(group.First, start);
        }

        group.Start = start;
        group.First = seq;
        group.Last = seq;
    }

    private void Clip(long first, long at)
    {
        for (long seq = first; seq >= 0;)
        {
            int i = (int)(seq & _mask);
            if (_end[i] > at)
            {
                _end[i] = at;
            }

            _decided[i] = true;
            seq = _next[i];
        }
    }

    /// <summary>Emits the FIFO head while it is decided or the watermark reached its end.</summary>
    private void Release(long watermark)
    {
        while (_headSeq < _tailSeq)
        {
            int i = (int)(_headSeq & _mask);
            if (!_decided[i])
            {
                if (_end[i] > watermark)
                {
                    return;
                }

                // Still undecided, so still in its key's group, and as the oldest held event it is the group's first member.
                LeaveGroup(_heldKey[i], _next[i]);
            }

            var output = _output ??= _pool.Rent();
            output.Add(_start[i], _end[i], _payload[i]);
            if (output.IsFull)
            {
                _output = null;
                Downstream.OnBatch(output);
            }

            if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
            {
                _payload[i] = default!;
            }

            if (RuntimeHelpers.IsReferenceOrContainsReferences<TKey>())
            {
                _heldKey[i] = default!;
            }

            _headSeq++;
        }
    }

    private void Flush()
    {
        if (_output is { Count: > 0 } output)
        {
            _output = null;
            Downstream.OnBatch(output);
        }
    }

    private ref KeyGroup Group(TKey key, out bool exists)
    {
        if (key is null)
        {
            exists = _hasNullGroup;
            _hasNullGroup = true;
            return ref _nullGroup;
        }

        return ref CollectionsMarshal.GetValueRefOrAddDefault(_groups, key, out exists);
    }

    private void LeaveGroup(TKey key, long next)
    {
        if (key is null)
        {
            _nullGroup.First = next;
            _hasNullGroup = next >= 0;
            return;
        }

        if (next < 0)
        {
            _groups.Remove(key);
            return;
        }

        CollectionsMarshal.GetValueRefOrNullRef(_groups, key).First = next;
    }

    private void Grow()
    {
        int capacity = _start.Length * 2;
        int mask = capacity - 1;
        var start = new long[capacity];
        var end = new long[capacity];
        var payload = new T[capacity];
        var heldKey = new TKey[capacity];
        var next = new long[capacity];
        var decided = new bool[capacity];
        for (long seq = _headSeq; seq < _tailSeq; seq++)
        {
            int from = (int)(seq & _mask), to = (int)(seq & mask);
            start[to] = _start[from];
            end[to] = _end[from];
            payload[to] = _payload[from];
            heldKey[to] = _heldKey[from];
            next[to] = _next[from];
            decided[to] = _decided[from];
        }

        (_start, _end, _payload, _heldKey, _next, _decided, _mask) = (start, end, payload, heldKey, next, decided, mask);
    }

    private void ClearKeys(int count)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TKey>())
        {
            Array.Clear(_keys, 0, count);
        }
    }

    /// <summary>Drops everything held after a failure, returning the partial output batch to the pool.</summary>
    private void Discard()
    {
        if (_output is not null)
        {
            _pool.Return(_output);
            _output = null;
        }

        _groups.Clear();
        _hasNullGroup = false;
        Array.Clear(_payload);
        Array.Clear(_heldKey);
        _headSeq = _tailSeq;
    }

    private struct KeyGroup
    {
        public long Start;
        public long First;
        public long Last;
    }
}
