namespace LinqStream.Runtime.Tables;

/// <summary>
/// The key tables of a window aggregate's panes (<c>Dictionary&lt;TKey, int&gt;</c>: key to slot), kept across runs of queries in the
/// process: an operator rents one per pane it opens and gives them all back at the end of its run, so the next run starts with
/// tables already grown instead of doubling them up from empty (issue #16: at parallelism 2, NEXMark q5's local and merging
/// aggregates allocated their tables anew in every run, which, with the aggregate columns, cost a collection per run).
/// </summary>
/// <remarks>
/// Rent and return happen once per pane (not per event), under a lock; the pool keeps at most <see cref="MaxTables"/> tables per
/// key type, none bigger than <see cref="LargestKept"/> entries, and no more than <see cref="MaxEntries"/> entries' room in all,
/// so what it holds while no query runs is bounded (about 24 MB for <c>long</c> keys). A table is
/// returned empty, with the default comparer it was made with; a returned table must no longer be used by its operator.
/// </remarks>
internal static class PooledDictionaries<TKey>
    where TKey : notnull
{
    /// <summary>The most tables kept per key type (enough for a few operators' open panes at a few tasks).</summary>
    internal const int MaxTables = 64;

    /// <summary>Tables with room for more entries than this are left to the collector (a burst does not stay in memory).</summary>
    internal const int LargestKept = 1 << 16;

    /// <summary>The most room, in entries, of all tables kept per key type.</summary>
    internal const int MaxEntries = 1 << 20;

    private static readonly Lock Gate = new();
    private static readonly Stack<Dictionary<TKey, int>> Tables = new();
    private static long s_entries; // the room of the tables kept, under Gate

    /// <summary>Gets the number of tables kept now (tests).</summary>
    internal static int Count
    {
        get
        {
            lock (Gate)
            {
                return Tables.Count;
            }
        }
    }

    /// <summary>An empty table, grown by an earlier run when the pool has one.</summary>
    public static Dictionary<TKey, int> Rent()
    {
        lock (Gate)
        {
            if (Tables.TryPop(out var table))
            {
                s_entries -= table.EnsureCapacity(0);
                return table;
            }
        }

        return [];
    }

    /// <summary>Empties <paramref name="table"/> and keeps it for the next <see cref="Rent"/> (unless the pool is full or it is too big).</summary>
    public static void Return(Dictionary<TKey, int> table)
    {
        table.Clear();
        int room = table.EnsureCapacity(0);
        if (room > LargestKept)
        {
            return;
        }

        lock (Gate)
        {
            if (Tables.Count < MaxTables && s_entries + room <= MaxEntries)
            {
                Tables.Push(table);
                s_entries += room;
            }
        }
    }
}
