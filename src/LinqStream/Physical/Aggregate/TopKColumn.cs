using LinqStream.Physical.Kernels;
namespace LinqStream.Physical.Aggregate;

/// <summary><c>OrderBy[Descending](f).Take(k)</c>: the best <c>k</c> events per slot, stable on ties as LINQ-to-objects.</summary>
internal sealed class TopKColumn<T, TSortKey> : ValueAggregateColumn<T, TSortKey>
{
    private readonly int _k;
    private readonly bool _descending;
    private readonly IComparer<TSortKey> _comparer;
    private readonly bool _defaultOrder; // no comparer given: the key type's own order, compared without an interface call
    private TSortKey[][] _keys = [];
    private T[][] _items = [];
    private int[] _counts = [];
    private T[] _payload = [];

    public TopKColumn(string description, AggregateInput input, int k, bool descending, IComparer<TSortKey>? comparer, KernelCompiler kernels)
        : base(description, input, kernels)
    {
        _k = k;
        _descending = descending;
        _comparer = comparer ?? Comparer<TSortKey>.Default;
        _defaultOrder = comparer is null;
    }

    public override void Grow(int capacity)
    {
        int old = _keys.Length;
        Array.Resize(ref _keys, capacity);
        Array.Resize(ref _items, capacity);
        Array.Resize(ref _counts, capacity);
        for (int s = old; s < capacity; s++)
        {
            _keys[s] = new TSortKey[_k];
            _items[s] = new T[_k];
        }
    }

    public override void Prepare(Runtime.EventBatch<T> batch)
    {
        base.Prepare(batch);
        _payload = batch.Payload;
    }

    public override void Accumulate(int[] slots, int count)
    {
        if (_k == 0)
        {
            return;
        }

        if (_defaultOrder)
        {
            // The key type's own order (Comparer<TSortKey>.Default, which the JIT devirtualizes for a value type) in a loop
            // specialized for the direction: no interface call and no direction test per event.
            if (_descending)
            {
                AccumulateInOrder<DescendingOrder>(slots, count);
            }
            else
            {
                AccumulateInOrder<AscendingOrder>(slots, count);
            }

            return;
        }

        var include = Include;
        var values = Values;
        for (int i = 0; i < count; i++)
        {
            int s = slots[i];
            if (s >= 0 && include[i])
            {
                Insert(s, values[i], _payload[i]);
            }
        }
    }

    /// <summary>
    /// <see cref="Accumulate"/> in the key type's own order: the slot's arrays stay in locals while its events follow each other
    /// (a whole window's batch goes to one slot), and an event that does not beat a full slot's last kept key is rejected by one
    /// compare, which is most events once a window has its first k.
    /// </summary>
    private void AccumulateInOrder<TDirection>(int[] slots, int count)
        where TDirection : struct, ISortDirection
    {
        var include = Include;
        var values = Values;
        var payload = _payload;
        int k = _k;
        int current = -1, n = 0;
        TSortKey[] keys = [];
        T[] items = [];
        for (int i = 0; i < count; i++)
        {
            int s = slots[i];
            if (s < 0 || !include[i])
            {
                continue;
            }

            if (s != current)
            {
                if (current >= 0)
                {
                    _counts[current] = n;
                }

                current = s;
                keys = _keys[s];
                items = _items[s];
                n = _counts[s];
            }

            var key = values[i];
            if (n == k && !TDirection.Before(Comparer<TSortKey>.Default.Compare(key, keys[n - 1])))
            {
                continue;
            }

            // The new event goes after every kept event that sorts before it or ties with it (stable, as LINQ).
            int position = n;
            while (position > 0 && TDirection.Before(Comparer<TSortKey>.Default.Compare(key, keys[position - 1])))
            {
                position--;
            }

            int last = n < k ? n : k - 1;
            for (int j = last; j > position; j--)
            {
                keys[j] = keys[j - 1];
                items[j] = items[j - 1];
            }

            keys[position] = key;
            items[position] = payload[i];
            if (n < k)
            {
                n++;
            }
        }

        if (current >= 0)
        {
            _counts[current] = n;
        }
    }

    public override void Clear(int slot)
    {
        Array.Clear(_items[slot]);
        Array.Clear(_keys[slot]);
        _counts[slot] = 0;
    }

    public override Type SlotType => typeof((TSortKey[], T[]));

    public override object? CaptureSlot(int slot) => (_keys[slot][.._counts[slot]], _items[slot][.._counts[slot]]);

    public override bool CaptureIsACopy => true;

    public override void RestoreSlot(int slot, object? state)
    {
        var (keys, items) = ((TSortKey[], T[]))state!;
        keys.CopyTo(_keys[slot], 0);
        items.CopyTo(_items[slot], 0);
        _counts[slot] = keys.Length;
    }

    public override bool CanMerge => true;

    public override void Merge(int target, int source)
    {
        // Source's events come after target's: inserting them in order keeps LINQ's stable order on ties.
        var keys = _keys[source];
        var items = _items[source];
        for (int j = 0; j < _counts[source]; j++)
        {
            Insert(target, keys[j], items[j]);
        }
    }

    public T[] Result(int slot)
    {
        var result = new T[_counts[slot]];
        Array.Copy(_items[slot], result, result.Length);
        return result;
    }

    private void Insert(int slot, TSortKey key, T item)
    {
        var keys = _keys[slot];
        var items = _items[slot];
        int n = _counts[slot];
        // The new event goes after every kept event that sorts before it or ties with it (stable, as LINQ).
        int position = n;
        while (position > 0 && Before(key, keys[position - 1]))
        {
            position--;
        }

        if (position >= _k)
        {
            return;
        }

        int last = Math.Min(n, _k - 1);
        for (int j = last; j > position; j--)
        {
            keys[j] = keys[j - 1];
            items[j] = items[j - 1];
        }

        keys[position] = key;
        items[position] = item;
        _counts[slot] = Math.Min(n + 1, _k);
    }

    private bool Before(TSortKey candidate, TSortKey kept)
    {
        int c = _comparer.Compare(candidate, kept);
        return _descending ? c > 0 : c < 0;
    }
}

/// <summary>Whether a comparison's result puts a candidate before a kept key, per sort direction (a struct type argument, so the JIT specializes a loop over it).</summary>
internal interface ISortDirection
{
    static abstract bool Before(int comparison);
}

/// <summary><c>OrderBy</c>: the smaller key first.</summary>
internal readonly struct AscendingOrder : ISortDirection
{
    public static bool Before(int comparison) => comparison < 0;
}

/// <summary><c>OrderByDescending</c>: the larger key first.</summary>
internal readonly struct DescendingOrder : ISortDirection
{
    public static bool Before(int comparison) => comparison > 0;
}

/// <summary>Compares tuple sort keys component by component, each ascending or descending (<c>OrderBy(a).ThenByDescending(b)</c>).</summary>
/// <remarks>The comparison is compiled once from each component's default comparer: no boxing per comparison.</remarks>
internal sealed class CompositeKeyComparer<TTuple> : IComparer<TTuple>
    where TTuple : struct
{
    private readonly Func<TTuple, TTuple, int> _compare;

    public CompositeKeyComparer(bool[] descending)
    {
        var x = System.Linq.Expressions.Expression.Parameter(typeof(TTuple), "x");
        var y = System.Linq.Expressions.Expression.Parameter(typeof(TTuple), "y");
        var c = System.Linq.Expressions.Expression.Variable(typeof(int), "c");
        var done = System.Linq.Expressions.Expression.Label(typeof(int), "done");
        var steps = new List<System.Linq.Expressions.Expression>();
        for (int i = 0; i < descending.Length; i++)
        {
            var field = typeof(TTuple).GetField("Item" + (i + 1))!;
            var comparer = typeof(Comparer<>).MakeGenericType(field.FieldType);
            var compare = System.Linq.Expressions.Expression.Call(
                System.Linq.Expressions.Expression.Property(null, comparer, nameof(Comparer<int>.Default)), comparer.GetMethod(nameof(Comparer<int>.Compare))!,
                System.Linq.Expressions.Expression.Field(x, field), System.Linq.Expressions.Expression.Field(y, field));
            steps.Add(System.Linq.Expressions.Expression.Assign(c, descending[i] ? System.Linq.Expressions.Expression.Negate(compare) : compare));
            steps.Add(System.Linq.Expressions.Expression.IfThen(System.Linq.Expressions.Expression.NotEqual(c, System.Linq.Expressions.Expression.Constant(0)), System.Linq.Expressions.Expression.Return(done, c)));
        }

        steps.Add(System.Linq.Expressions.Expression.Label(done, System.Linq.Expressions.Expression.Constant(0)));
        _compare = Kernels.KernelCompiler.Shared.Compile(System.Linq.Expressions.Expression.Lambda<Func<TTuple, TTuple, int>>(System.Linq.Expressions.Expression.Block([c], steps), x, y));
    }

    public int Compare(TTuple x, TTuple y) => _compare(x, y);
}
