using System.Linq.Expressions;
using LinqStream.Runtime.Ingress;

namespace LinqStream;

public static partial class QStream
{
    /// <summary>
    /// Streams a partitioned log whose writer put each key's events in one partition chosen by the key's key group
    /// (<see cref="KeyPartitioner.PartitionOf{TKey}(TKey, int, int)"/>), as Kafka's key partitioning or Flink's
    /// <c>reinterpretAsKeyedStream</c>: a keyed window aggregate grouped by the same key then runs at parallelism above 1 with a
    /// <b>forward</b> exchange (each task reads its partitions and aggregates their keys itself; no event crosses a hash exchange).
    /// Otherwise it is <see cref="From{T}(IReadOnlyList{EventSource{T}}, Expression{Func{T, long}}, IngressPolicy?, TimeSpan?, string?)"/>.
    /// </summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <typeparam name="TKey">The partition key's type.</typeparam>
    /// <param name="partitions">The partitions, in the writer's order: partition <c>p</c> holds the keys whose key group is in the range task <c>p</c> of <c>partitions.Count</c> would own.</param>
    /// <param name="eventTime">The event time of a payload, in ticks (<c>e =&gt; e.Time.Ticks</c> for a <see cref="DateTime"/>).</param>
    /// <param name="partitionKey">The key the writer partitioned by; a query's <c>group ... by</c> must be the same expression for the forward exchange.</param>
    /// <param name="policy">What to do with out-of-order events within a partition; the default is <see cref="IngressPolicy.Throw"/>.</param>
    /// <param name="keyGroups">The number of key groups the writer used; must equal the query's <see cref="QueryOptions.KeyGroups"/> for the forward exchange.</param>
    /// <param name="name">The stream's name in messages and plans; partition <c>i</c> is named <c>name[i]</c>. The default is each partition's own name.</param>
    /// <returns>A stream of point events: every partition's events, merged in time order.</returns>
    /// <remarks>
    /// The declaration is checked, not trusted: with the forward exchange every event's key is hashed on its partition's task, and an
    /// event whose key group is not its partition's stops the query with a <see cref="QueryExecutionException"/> naming the partition,
    /// the event's place in it, its key and both key groups (under <see cref="ErrorPolicy.SkipAndDeadLetter"/> it is dead-lettered
    /// with the same text instead, and skipped). At parallelism 1, or when the query hashes anyway, nothing is checked: every key's
    /// events meet in one place, so the answer is right either way.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="partitions"/>, <paramref name="eventTime"/> or <paramref name="partitionKey"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="partitions"/> is empty or holds a null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="keyGroups"/> is not 1 to 32,768, or there are more partitions than key groups.</exception>
#pragma warning disable RS0026 // Overloads with optional parameters: as QStream.From's, one per kind of source, told apart by the partitions' type.
    public static IQStream<T> FromKeyPartitioned<T, TKey>(IReadOnlyList<EventSource<T>> partitions, Expression<Func<T, long>> eventTime, Expression<Func<T, TKey>> partitionKey, IngressPolicy? policy = null, int keyGroups = 128, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(eventTime);
        return From(KeyPartitioned(partitions, partitionKey, keyGroups), eventTime, policy, idleTimeout: null, name);
    }

    /// <summary>
    /// Replays arrays that a writer partitioned by key (<see cref="KeyPartitioner.PartitionOf{TKey}(TKey, int, int)"/>) as one stream, as
    /// <see cref="FromKeyPartitioned{T, TKey}(IReadOnlyList{EventSource{T}}, Expression{Func{T, long}}, Expression{Func{T, TKey}}, IngressPolicy?, int, string?)"/>
    /// does for a partitioned log: a keyed window aggregate grouped by the same key runs at parallelism above 1 with a forward
    /// exchange, and, since an array is replayed on the thread that steps it, each source task and its task on one thread (chained).
    /// </summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <typeparam name="TKey">The partition key's type.</typeparam>
    /// <param name="partitions">The partitions, in the writer's order, each in (roughly) time order.</param>
    /// <param name="eventTime">The event time of a payload, in ticks.</param>
    /// <param name="partitionKey">The key the writer partitioned by; a query's <c>group ... by</c> must be the same expression for the forward exchange.</param>
    /// <param name="policy">What to do with out-of-order events within a partition; the default is <see cref="IngressPolicy.Throw"/>.</param>
    /// <param name="keyGroups">The number of key groups the writer used; must equal the query's <see cref="QueryOptions.KeyGroups"/> for the forward exchange.</param>
    /// <param name="name">The stream's name in messages and plans; partition <c>i</c> is named <c>name[i]</c>. The default is <c>partition</c>.</param>
    /// <returns>A stream of point events: every partition's events, merged in time order.</returns>
    /// <remarks>The declaration is checked as for a partitioned log (an event in the wrong partition stops the query, or is dead-lettered).</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="partitions"/>, <paramref name="eventTime"/> or <paramref name="partitionKey"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="partitions"/> is empty or holds a null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="keyGroups"/> is not 1 to 32,768, or there are more partitions than key groups.</exception>
    public static IQStream<T> FromKeyPartitioned<T, TKey>(IReadOnlyList<T[]> partitions, Expression<Func<T, long>> eventTime, Expression<Func<T, TKey>> partitionKey, IngressPolicy? policy = null, int keyGroups = 128, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(eventTime);
        CheckPartitions(partitions, partitionKey, keyGroups);
        var streams = new IQStream<T>[partitions.Count];
        for (int i = 0; i < streams.Length; i++)
        {
            var partition = partitions[i] ?? throw new ArgumentException($"Partition {i} is null.", nameof(partitions));
            var declared = ArrayChunks<T>.KeyPartitioned(partition, new KeyPartitioning(partitionKey, keyGroups, partitions.Count, i));
            streams[i] = From(declared, eventTime, policy, $"{name ?? "partition"}[{i}]");
        }

        return streams.Length == 1 ? streams[0] : streams[0].Merge(streams[1..]);
    }

#pragma warning restore RS0026

    private static void CheckPartitions<TPartition>(IReadOnlyList<TPartition> partitions, LambdaExpression partitionKey, int keyGroups)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        ArgumentNullException.ThrowIfNull(partitionKey);
        KeyPartitioner.CheckKeyGroups(keyGroups);
        if (partitions.Count == 0)
        {
            throw new ArgumentException("A partitioned source needs at least one partition.", nameof(partitions));
        }

        if (partitions.Count > keyGroups)
        {
            throw new ArgumentOutOfRangeException(nameof(partitions), partitions.Count, $"A source partitioned by key has at most one partition per key group ({keyGroups}).");
        }
    }

    private static EventSource<T>[] KeyPartitioned<T, TKey>(IReadOnlyList<EventSource<T>> partitions, Expression<Func<T, TKey>> partitionKey, int keyGroups)
    {
        CheckPartitions(partitions, partitionKey, keyGroups);
        var tagged = new EventSource<T>[partitions.Count];
        for (int i = 0; i < tagged.Length; i++)
        {
            var partition = partitions[i] ?? throw new ArgumentException($"Partition {i} is null.", nameof(partitions));
            tagged[i] = new KeyPartitionedSource<T>(partition, new KeyPartitioning(partitionKey, keyGroups, partitions.Count, i));
        }

        return tagged;
    }
}
