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
    private readonly Dictionary<KernelShape.ShapeKey, LinkedListNode<Recipe>> _recipes = [];
    private readonly LinkedList<Recipe> _recipeRecency = [];
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

    /// <summary>Gets how many recipes are cached (each names a cached shape; see <see cref="KernelRecipe"/>).</summary>
    public int RecipeCount
    {
        get
        {
            lock (_gate)
            {
                return _recipes.Count;
            }
        }
    }

    /// <summary>
    /// Finds the factory of the shape a recipe was built into, and where each of the kernel's captured objects is among the
    /// recipe's values; counts a hit when found. Not found (and nothing counted) when the recipe is unknown or its shape was evicted.
    /// </summary>
    public bool TryGetRecipe(KernelShape.ShapeKey recipe, out Delegate factory, out int[] mapping, out KernelShape.ShapeKey shape)
    {
        lock (_gate)
        {
            if (_recipes.TryGetValue(recipe, out var node))
            {
                var entry = node.Value.Entry;
                if (entry.List is not null)
                {
                    _recipeRecency.Remove(node);
                    _recipeRecency.AddFirst(node);
                    _recency.Remove(entry);
                    _recency.AddFirst(entry);
                    _hits++;
                    (factory, mapping, shape) = (entry.Value.Factory, node.Value.Mapping, entry.Value.Key);
                    return true;
                }

                // Its shape was evicted: forget the recipe too, the caller compiles (a miss, as before recipes).
                _recipes.Remove(recipe);
                _recipeRecency.Remove(node);
            }
        }

        (factory, mapping, shape) = (null!, null!, null!);
        return false;
    }

    /// <summary>Remembers that <paramref name="recipe"/> builds the kernel of <paramref name="shape"/>, when that shape is cached.</summary>
    /// <param name="kind">The recipe's builder (<see cref="KernelRecipe.Kind"/>).</param>
    /// <param name="recipe">The recipe's key.</param>
    /// <param name="shape">The key of the shape built from it.</param>
    /// <param name="mapping">For each lifted value of the built kernel, its index among the recipe's values.</param>
    public void AddRecipe(string kind, KernelShape.ShapeKey recipe, KernelShape.ShapeKey shape, int[] mapping)
    {
        lock (_gate)
        {
            if (_capacity == 0 || !_entries.TryGetValue(shape, out var entry) || _recipes.ContainsKey(recipe))
            {
                return;
            }

            _recipes[recipe] = _recipeRecency.AddFirst(new Recipe(kind, recipe, entry, mapping));
            Trim();
        }
    }

    /// <summary>Gets the kinds of the cached recipes, most recently used first (tests).</summary>
    internal string[] RecipeKinds()
    {
        lock (_gate)
        {
            return [.. _recipeRecency.Select(r => r.Kind)];
        }
    }

    /// <summary>Forgets every entry and resets the counters.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _entries.Clear();
            _recency.Clear();
            _recipes.Clear();
            _recipeRecency.Clear();
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

        while (_recipes.Count > _capacity && _recipeRecency.Last is { } last)
        {
            _recipes.Remove(last.Value.Key);
            _recipeRecency.RemoveLast();
        }
    }

    // The key holds only the shape's tokens: the first query's captured objects (closures, aggregate columns) are not kept alive.
    private sealed record Entry(KernelShape.ShapeKey Key, Delegate Factory);

    // A recipe names its shape's node: the shape's factory when that node is still cached (List not null), a miss otherwise.
    private sealed record Recipe(string Kind, KernelShape.ShapeKey Key, LinkedListNode<Entry> Entry, int[] Mapping);
}
