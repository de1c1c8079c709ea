using System.Linq.Expressions;
using LinqStream.Plan;

namespace LinqStream.Query;

/// <summary>
/// A bounded, thread-safe cache of optimized logical plans keyed by the query expression's shape, so that a query built again
/// with other sources and other captured values skips preprocessing, translation and the logical passes.
/// </summary>
/// <remarks>
/// <para>The shape (<see cref="QueryShape"/>) holds every node's kind, type, method and member, and every constant by value,
/// except the lifted ones: each source (the first argument of <c>QStream.From</c>) and each closure object the C# compiler
/// made for captured variables. Those become parameters: the cached plan holds a placeholder where the first query had the
/// object (so the cache keeps no user data alive), and a hit puts the new query's objects there.</para>
/// <para>A plan is not cached when translation evaluated a captured value (the <c>k</c> of <c>Take(k)</c>, the instance of
/// <c>Aggregate(agg)</c>), since that value is baked into the plan.</para>
/// </remarks>
internal sealed class PlanCache
{
    private readonly Lock _gate = new();
    private readonly Dictionary<QueryShape, LinkedListNode<Entry>> _entries = [];
    private readonly LinkedList<Entry> _recency = [];
    private readonly int _capacity;
    private long _hits;
    private long _misses;

    /// <param name="capacity">How many plans to keep; 0 turns the cache off.</param>
    public PlanCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _capacity = capacity;
    }

    /// <summary>Gets the cache every query uses, with 256 plans.</summary>
    public static PlanCache Shared { get; } = new(256);

    public int Capacity => _capacity;

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

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

    /// <summary>The plan cached for <paramref name="shape"/>, bound to its lifted objects; null on a miss.</summary>
    public CachedPlan? Find(QueryShape shape)
    {
        Entry entry;
        lock (_gate)
        {
            if (!_entries.TryGetValue(shape, out var node))
            {
                _misses++;
                return null;
            }

            _recency.Remove(node);
            _recency.AddFirst(node);
            _hits++;
            entry = node.Value;
        }

        return entry.Plan.Bind(shape.Lifted);
    }

    /// <summary>Keeps <paramref name="plan"/> (of the query whose shape is <paramref name="shape"/>) with its lifted objects replaced by placeholders.</summary>
    public void Add(QueryShape shape, CachedPlan plan)
    {
        if (_capacity == 0 || plan.Lift(shape.Lifted) is not { } template)
        {
            return;
        }

        lock (_gate)
        {
            if (_entries.ContainsKey(shape))
            {
                return;
            }

            var key = shape.WithoutLifted(); // the cache keeps no user data alive
            _entries[key] = _recency.AddFirst(new Entry(key, template));
            while (_entries.Count > _capacity && _recency.Last is { } last)
            {
                _entries.Remove(last.Value.Shape);
                _recency.RemoveLast();
            }
        }
    }

    private sealed record Entry(QueryShape Shape, CachedPlan Plan);
}

/// <summary>What the plan cache keeps of a compiled query: the plans before and after the passes, the options, and the passes' log.</summary>
internal sealed record CachedPlan(PlanNode Logical, PlanNode Optimized, QueryOptions Options, IReadOnlyList<string> Log)
{
    /// <summary>This plan with each lifted object (distinct, in shape order) replaced by its placeholder; null when it cannot be cached.</summary>
    public CachedPlan? Lift(IReadOnlyList<object> lifted)
    {
        var indexes = new Dictionary<object, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < lifted.Count; i++)
        {
            indexes[lifted[i]] = i;
        }

        return Rebind(new PlanRebinder(indexes, null));
    }

    /// <summary>This template with each placeholder replaced by the new query's object.</summary>
    public CachedPlan? Bind(IReadOnlyList<object> lifted) => Rebind(new PlanRebinder(null, lifted));

    private CachedPlan? Rebind(PlanRebinder rebinder)
    {
        var nodes = new Dictionary<PlanNode, PlanNode>(ReferenceEqualityComparer.Instance);
        var logical = rebinder.Rebind(Logical, nodes);
        var optimized = rebinder.Rebind(Optimized, nodes);
        return logical is null || optimized is null ? null : this with { Logical = logical, Optimized = optimized };
    }
}

/// <summary>The placeholder of the i-th lifted object in a cached plan: one object per index (a source's place), and one parameter per index and type (a closure's place in a lambda).</summary>
internal sealed class Lifted
{
    private static readonly List<Lifted> s_all = [];
    private static readonly Dictionary<(int, Type), ParameterExpression> s_parameters = [];
    private static readonly Dictionary<ParameterExpression, int> s_indexes = new(ReferenceEqualityComparer.Instance);

    private Lifted(int index) => Index = index;

    public int Index { get; }

    public override string ToString() => "lifted" + Index;

    /// <summary>The shared placeholder object of index <paramref name="index"/>.</summary>
    public static Lifted At(int index)
    {
        lock (s_all)
        {
            while (s_all.Count <= index)
            {
                s_all.Add(new Lifted(s_all.Count));
            }

            return s_all[index];
        }
    }

    /// <summary>The shared placeholder parameter of index <paramref name="index"/> for a constant of type <paramref name="type"/>.</summary>
    public static ParameterExpression Parameter(int index, Type type)
    {
        lock (s_parameters)
        {
            if (!s_parameters.TryGetValue((index, type), out var parameter))
            {
                parameter = Expression.Parameter(type, "lifted" + index);
                s_parameters[(index, type)] = parameter;
                s_indexes[parameter] = index;
            }

            return parameter;
        }
    }

    /// <summary>Whether <paramref name="parameter"/> is a placeholder, and of which index.</summary>
    public static bool TryIndex(ParameterExpression parameter, out int index)
    {
        lock (s_parameters)
        {
            return s_indexes.TryGetValue(parameter, out index);
        }
    }
}
