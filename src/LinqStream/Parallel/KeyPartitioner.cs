namespace LinqStream;

/// <summary>
/// Where a writer puts an event so that a partitioned source may declare it is partitioned by a key
/// (<see cref="QStream.FromKeyPartitioned{T, TKey}(IReadOnlyList{EventSource{T}}, System.Linq.Expressions.Expression{Func{T, long}}, System.Linq.Expressions.Expression{Func{T, TKey}}, IngressPolicy?, int, string?)"/>):
/// the key's stable hash picks one of <c>keyGroups</c> key groups, and partition <c>p</c> of <c>partitions</c> holds the
/// contiguous range of key groups a task <c>p</c> of <c>partitions</c> would own (docs/parallelism.md, "Forward exchange").
/// </summary>
/// <remarks>
/// The hash is LinqStream's stable key hash (XxHash3 of a fixed encoding of the key, the same in every process and on every
/// machine; never <see cref="object.GetHashCode"/>), so a writer in another process routes a key exactly as the query checks it.
/// </remarks>
public static class KeyPartitioner
{
    /// <summary>Gets the key group of <paramref name="key"/> (0 to <paramref name="keyGroups"/> - 1).</summary>
    /// <typeparam name="TKey">The key's type: the same type the query groups by (the encoding depends on it).</typeparam>
    /// <param name="key">The key (null is in key group 0).</param>
    /// <param name="keyGroups">The number of key groups: the query's <see cref="QueryOptions.KeyGroups"/>.</param>
    /// <returns>The key group.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="keyGroups"/> is not 1 to 32,768.</exception>
    public static int KeyGroupOf<TKey>(TKey key, int keyGroups = 128)
    {
        CheckKeyGroups(keyGroups);
        return Parallel.KeyGroups.Of(Parallel.StableKeyHash<TKey>.Hash(key), keyGroups);
    }

    /// <summary>Gets the partition that must hold the events with <paramref name="key"/>.</summary>
    /// <typeparam name="TKey">The key's type: the same type the query groups by (the encoding depends on it).</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="partitions">The number of partitions (at most <paramref name="keyGroups"/>).</param>
    /// <param name="keyGroups">The number of key groups: the query's <see cref="QueryOptions.KeyGroups"/>.</param>
    /// <returns>The partition, 0 to <paramref name="partitions"/> - 1.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="keyGroups"/> is not 1 to 32,768, or <paramref name="partitions"/> is not 1 to <paramref name="keyGroups"/>.</exception>
    public static int PartitionOf<TKey>(TKey key, int partitions, int keyGroups = 128)
    {
        CheckKeyGroups(keyGroups);
        CheckPartitions(partitions, keyGroups);
        return Parallel.KeyGroups.TaskOf(KeyGroupOf(key, keyGroups), keyGroups, partitions);
    }

    internal static void CheckKeyGroups(int keyGroups)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keyGroups, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(keyGroups, 32768);
    }

    internal static void CheckPartitions(int partitions, int keyGroups)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(partitions, keyGroups);
    }
}
