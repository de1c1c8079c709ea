using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

// TKey may be a nullable type for the Dictionary path (the operators decide what a null key means before they look it up).
#pragma warning disable CS8714

namespace LinqStream.Runtime.Tables;

/// <summary>
/// A map from keys to <see cref="int"/> slot numbers: open addressing with linear probing for keys <typeparamref name="THasher"/>
/// supports (primitive keys), a <see cref="Dictionary{TKey, TValue}"/> for every other key.
/// </summary>
/// <remarks>
/// <para>
/// Open addressing: one array of (key, value, used) entries, a power-of-two capacity indexed by the top bits of the key's hash, at most
/// five eighths full. A lookup reads one entry in the common case (a <see cref="Dictionary{TKey, TValue}"/> reads a bucket, then an
/// entry elsewhere, and computes a modulus). A remove shifts the entries after it back (no tombstones), so lookups never slow down
/// after many removes. Nothing is allocated except when the table grows or is trimmed, and then the entries come from the shared
/// array pool (<see cref="PooledArrays"/>, cleared when rented) and the old ones go back; <see cref="Release"/> gives the last
/// ones back at the end of a run (issue #19).
/// </para>
/// <para>
/// The order of <see cref="GetEnumerator"/> is the table's own (by hash for the open table) and is not an output order: operators
/// that emit keys order them by stable key hash (<see cref="Parallel.KeyOrder{TKey}"/>). A reference returned by
/// <see cref="GetValueRefOrAddDefault"/> is valid until the next add or remove.
/// </para>
/// </remarks>
internal class KeySlotTable<TKey, THasher>
    where THasher : IKeyHasher<TKey>
{
    private const int MinimumCapacity = 16;

    private readonly Dictionary<TKey, int>? _dictionary;
    private Entry[] _entries;
    private int _count;
    private int _shift;
    private ulong _multiplier;
    private int _growAt;

    public KeySlotTable()
        : this(0)
    {
    }

    public KeySlotTable(int capacity)
    {
        if (!THasher.IsSupported)
        {
            _dictionary = new Dictionary<TKey, int>(capacity);
            _entries = [];
            return;
        }

        _entries = [];
        Allocate(CapacityFor(capacity));
    }

    /// <summary>Gets a value indicating whether this table uses open addressing (the key type is supported), not a dictionary.</summary>
    public bool IsOpenAddressing => _dictionary is null;

    /// <summary>Gets the number of keys.</summary>
    public int Count => _dictionary?.Count ?? _count;

    /// <summary>Gets the number of keys the table holds before it grows.</summary>
    public int Capacity => _dictionary?.EnsureCapacity(0) ?? _growAt;

    /// <summary>Returns a reference to the value of <paramref name="key"/>, adding the key with value 0 when it is new.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref int GetValueRefOrAddDefault(TKey key, out bool exists)
    {
        if (_dictionary is not null)
        {
            return ref CollectionsMarshal.GetValueRefOrAddDefault(_dictionary, key, out exists);
        }

        int i = Find(key);
        if (i >= 0)
        {
            exists = true;
            return ref _entries[i].Value;
        }

        exists = false;
        return ref Insert(key, ~i);
    }

    /// <summary>Finds the value of <paramref name="key"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetValue(TKey key, out int value)
    {
        if (_dictionary is not null)
        {
            return _dictionary.TryGetValue(key, out value);
        }

        int i = Find(key);
        value = i >= 0 ? _entries[i].Value : 0;
        return i >= 0;
    }

    /// <summary>Adds a key that is not in the table.</summary>
    /// <exception cref="ArgumentException">The key is already in the table.</exception>
    public void Add(TKey key, int value)
    {
        ref int slot = ref GetValueRefOrAddDefault(key, out bool exists);
        if (exists)
        {
            throw new ArgumentException("An entry with the same key already exists.", nameof(key));
        }

        slot = value;
    }

    /// <summary>Removes <paramref name="key"/>; false when it was not in the table.</summary>
    public bool Remove(TKey key)
    {
        if (_dictionary is not null)
        {
            return _dictionary.Remove(key);
        }

        int i = Find(key);
        if (i < 0)
        {
            return false;
        }

        var entries = _entries;
        int mask = entries.Length - 1;

        // Backward shift: each later entry of the run that may live at the hole (its home is not between the hole and it) moves
        // into it, and its old place becomes the hole; the run's end closes it.
        int hole = i;
        int j = (i + 1) & mask;
        while (entries[j].Used != 0)
        {
            int home = Home(entries[j].Key);
            if (((j - home) & mask) >= ((j - hole) & mask))
            {
                entries[hole] = entries[j];
                hole = j;
            }

            j = (j + 1) & mask;
        }

        entries[hole] = default;
        _count--;
        return true;
    }

    /// <summary>Removes every key; the capacity stays.</summary>
    public void Clear()
    {
        if (_dictionary is not null)
        {
            _dictionary.Clear();
            return;
        }

        if (_count > 0)
        {
            Array.Clear(_entries);
            _count = 0;
        }
    }

    /// <summary>
    /// Empties the table and gives its entries back to the pool (the end of a run, or a failure); the table keeps the smallest capacity
    /// and may be used again. The dictionary of other keys is only cleared.
    /// </summary>
    public void Release()
    {
        if (_dictionary is not null)
        {
            _dictionary.Clear();
            return;
        }

        var old = _entries;
        _count = 0;
        Allocate(MinimumCapacity);
        PooledArrays.Return(old);
    }

    /// <summary>Grows the table, when needed, so that it holds <paramref name="keys"/> keys without growing again (never shrinks).</summary>
    public void EnsureCapacity(int keys)
    {
        if (_dictionary is not null)
        {
            _dictionary.EnsureCapacity(keys);
            return;
        }

        int size = CapacityFor(Math.Max(keys, _count));
        if (size > _entries.Length)
        {
            Rehash(size);
        }
    }

    /// <summary>Shrinks the table to the smallest capacity that holds its keys.</summary>
    public void TrimExcess() => TrimExcess(Count);

    /// <summary>Sets the capacity to hold at least <paramref name="capacity"/> keys (and at least the keys there are) without growing.</summary>
    public void TrimExcess(int capacity)
    {
        if (_dictionary is not null)
        {
            _dictionary.TrimExcess(Math.Max(capacity, _dictionary.Count));
            return;
        }

        int size = CapacityFor(Math.Max(capacity, _count));
        if (size != _entries.Length)
        {
            Rehash(size);
        }
    }

    public Enumerator GetEnumerator() => new(this);

    /// <summary>
    /// The odd multiplier of a table with the given shift: each capacity orders keys differently, so copying one table's keys in its
    /// order into a smaller one (a pane's keys into the merge table, a table into its trimmed copy) does not put runs of neighbours
    /// into the same few entries (linear probing's clustering when two tables share a hash); a table of one capacity is always
    /// ordered alike (deterministic).
    /// </summary>
    internal static ulong MultiplierFor(int shift) => ((ulong)shift * 0xD6E8FEB86659FD93UL) | 1UL;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Home(TKey key) => (int)((THasher.Hash(key) * _multiplier) >> _shift);

    /// <summary>The entry of <paramref name="key"/>, or the complement of the empty entry where its probe ended (open addressing only).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Find(TKey key)
    {
        var entries = _entries;
        int mask = entries.Length - 1;
        int i = Home(key);
        while (true)
        {
            ref var entry = ref entries[i];
            if (entry.Used == 0)
            {
                return ~i;
            }

            if (THasher.Equal(entry.Key, key))
            {
                return i;
            }

            i = (i + 1) & mask;
        }
    }

    private static int CapacityFor(int keys)
    {
        // At most five eighths full: keys * 8 / 5, rounded up to a power of two.
        long needed = Math.Max(MinimumCapacity, ((long)keys * 8 + 4) / 5 + 1);
        if (needed > 1 << 30)
        {
            throw new InvalidOperationException("A key table cannot hold more than 2^29 keys.");
        }

        return (int)BitOperations.RoundUpToPowerOf2((uint)needed);
    }

    private void Allocate(int size)
    {
        _entries = PooledArrays.RentCleared<Entry>(size); // a power of two: exactly that long
        _shift = 64 - BitOperations.Log2((uint)size);
        _multiplier = MultiplierFor(_shift);
        _growAt = (int)((long)size * 5 / 8);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ref int Insert(TKey key, int at)
    {
        if (_count >= _growAt)
        {
            Rehash(_entries.Length * 2);
            var entries = _entries;
            int mask = entries.Length - 1;
            at = Home(key);
            while (entries[at].Used != 0)
            {
                at = (at + 1) & mask;
            }
        }

        ref var entry = ref _entries[at];
        entry.Key = key;
        entry.Value = 0;
        entry.Used = 1;
        _count++;
        return ref entry.Value;
    }

    private void Rehash(int size)
    {
        var old = _entries;
        Allocate(size);
        var entries = _entries;
        int mask = size - 1;
        for (int k = 0; k < old.Length; k++)
        {
            ref var entry = ref old[k];
            if (entry.Used == 0)
            {
                continue;
            }

            int i = Home(entry.Key);
            while (entries[i].Used != 0)
            {
                i = (i + 1) & mask;
            }

            entries[i] = entry;
        }

        PooledArrays.Return(old);
    }

    /// <summary>The keys and values, in the table's order.</summary>
    public struct Enumerator
    {
        private readonly KeySlotTable<TKey, THasher> _table;
        private Dictionary<TKey, int>.Enumerator _inner;
        private int _index;

        internal Enumerator(KeySlotTable<TKey, THasher> table)
        {
            _table = table;
            _inner = table._dictionary is { } dictionary ? dictionary.GetEnumerator() : default;
            _index = -1;
            Current = default;
        }

        public KeyValuePair<TKey, int> Current { get; private set; }

        public bool MoveNext()
        {
            if (_table._dictionary is not null)
            {
                if (_inner.MoveNext())
                {
                    Current = _inner.Current;
                    return true;
                }

                return false;
            }

            var entries = _table._entries;
            while (++_index < entries.Length)
            {
                ref var entry = ref entries[_index];
                if (entry.Used != 0)
                {
                    Current = new KeyValuePair<TKey, int>(entry.Key, entry.Value);
                    return true;
                }
            }

            return false;
        }
    }

    private struct Entry
    {
        public TKey Key;
        public int Value;
        public int Used;
    }
}

/// <summary>A <see cref="KeySlotTable{TKey, THasher}"/> of plain keys: open addressing for primitive keys, a dictionary for the others.</summary>
internal sealed class KeySlotTable<TKey> : KeySlotTable<TKey, PrimitiveKeyHasher<TKey>>
{
    public KeySlotTable()
    {
    }

    public KeySlotTable(int capacity)
        : base(capacity)
    {
    }
}
