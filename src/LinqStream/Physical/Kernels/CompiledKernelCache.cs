namespace LinqStream.Physical.Kernels;

/// <summary>
/// A bounded, thread-safe cache of compiled kernels keyed by their <see cref="KernelShape"/>: the least recently used entry
/// goes first when the cache is full.
/// </summary>
/// <remarks>
/// An entry is a factory <c>object[] → delegate</c>: compiling is done once per shape, and a query built again (with other
/// captured values) gets its kernels by calling the factories with its own values, which costs an allocation, not a compile.
/// </remarks>
internal sealed class CompiledKernelCache
{
    private readonly Lock _gate = new();
    private readonly Dictionary<KernelShape.ShapeKey, LinkedListNode<Entry>> _entries = [];
    private readonly LinkedList<Entry> _recency = [];
    private int _capacity;
    private long _hits;
    private long _misses;

    /// <param name="capacity">How many compiled shapes to keep; 0 turns the cache off.</param>
    public CompiledKernelCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _capacity = capacity;
    }

    /// <summary>Gets or sets how many compiled shapes are kept (0 turns the cache off); lowering it evicts the least recently used.</summary>
    public int Capacity
    {
        get => Volatile.Read(ref _capacity);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            lock (_gate)
            {
                _capacity = value;
                Trim();
            }
        }
    }

    /// <summary>Gets how many lookups found a compiled kernel.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Gets how many lookups compiled one.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>Gets how many shapes are cached.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Gets the factory cached for <paramref name="shape"/>, or compiles it with <paramref name="compile"/> (outside the lock) and caches it.</summary>
    public Delegate GetOrAdd(KernelShape shape, Func<KernelShape, Delegate> compile)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(shape.Key, out var node))
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                _hits++;
                return node.Value.Factory;
            }

            _misses++;
        }

        var factory = compile(shape);
        lock (_gate)
        {
            if (_entries.TryGetValue(shape.Key, out var raced))
            {
                return raced.Value.Factory; // another thread compiled the same shape meanwhile: keep one
            }

            if (_capacity > 0)
            {
                _entries[shape.Key] = _recency.AddFirst(new Entry(shape.Key, factory));
                Trim();
            }
        }

        return factory;
    }

    /// <summary>Forgets every entry and resets the counters.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _entries.Clear();
            _recency.Clear();
            _hits = 0;
            _misses = 0;
        }
    }

    private void Trim()
    {
        while (_entries.Count > _capacity && _recency.Last is { } last)
        {
            _entries.Remove(last.Value.Key);
            _recency.RemoveLast();
        }
    }

    // The key holds only the shape's tokens: the first query's captured objects (closures, aggregate columns) are not kept alive.
    private sealed record Entry(KernelShape.ShapeKey Key, Delegate Factory);
}
