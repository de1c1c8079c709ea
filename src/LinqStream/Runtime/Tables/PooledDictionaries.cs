namespace LinqStream.Runtime.Tables;

/// <summary>
/// The key tables of a window aggregate's panes (<c>Dictionary&lt;TKey, int&gt;</c>: key to slot), kept across runs of queries in the
/// process: an operator rents one per pane it opens and gives them all back at the end of its run, so the next run starts with
/// tables already grown instead of doubling them up from empty (issue #16: at parallelism 2, NEXMark q5's local and merging
/// aggregates allocated their tables anew in every run, which, with the aggregate columns, cost a collection per run).
/// </summary>
/// <remarks>
/// Rent and return happen once per pane (not per event), under a lock; the pool keeps at most <see cref="MaxTables"/> tables per
/// key type and none bigger than <see cref="LargestKept"/> entries, so what it holds while no query runs is bounded. A table is
/// returned empty, with the default comparer it was made with; a returned table must no longer be used by its operator.
/// </remarks>
internal static class PooledDictionaries<TKey>
    where TKey : notnull
{
    /// <summary>The most tables kept per key type (enough for a few operators' open panes at a few tasks).</summary>
    internal const int MaxTables = 64;

    /// <summary>Tables with room for more entries than this are left to the collector (a burst does not stay in memory).</summary>
    internal const int LargestKept = 1 << 16;

    private static readonly Lock Gate = new();
    private static readonly Stack<Dictionary<TKey, int>> Tables = new();

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
                return table;
            }
        }

        return [];
    }

    /// <summary>Empties <paramref name="table"/> and keeps it for the next <see cref="Rent"/> (unless the pool is full or it is too big).</summary>
    public static void Return(Dictionary<TKey, int> table)
    {
        table.Clear();
        if (table.EnsureCapacity(0) > LargestKept)
        {
            return;
        }

        lock (Gate)
        {
            if (Tables.Count < MaxTables)
            {
                Tables.Push(table);
            }
        }
    }
}
