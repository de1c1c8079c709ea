using System.Linq.Expressions;
using LinqStream.Runtime.Ingress;

namespace LinqStream;

public static partial class QStream
{
    /// <summary>
    /// Streams a partitioned log (several streams, subjects or files) as one stream: each partition is read on its own, with its
    /// own ingress policy and watermark, and the query's watermark is the lowest of them, as in Flink.
    /// </summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="partitions">The partitions (for example one <c>RedisStreamSource</c> per stream); at least one.</param>
    /// <param name="eventTime">The event time of a payload.</param>
    /// <param name="policy">What to do with out-of-order events within a partition; the default is <see cref="IngressPolicy.Throw"/>.</param>
    /// <param name="idleTimeout">
    /// After this much processing time (<see cref="QueryOptions.TimeProvider"/>) with no data, a partition stops holding the
    /// watermark back until it has data again; <see langword="null"/> (the default) waits for every partition for ever.
    /// </param>
    /// <param name="name">The stream's name in messages and plans; partition <c>i</c> is named <c>name[i]</c>. The default is each partition's own name.</param>
    /// <returns>A stream of point events: every partition's events, merged in time order.</returns>
    /// <remarks>
    /// <para>State: the events of partitions that are ahead, until the slowest partition's watermark catches up (a union).
    /// Each partition's position is checkpointed on its own, so a restored job resumes every partition where it was.</para>
    /// <para>An idle partition moves its watermark up to the lowest watermark of the active partitions. When it has data again,
    /// events older than that watermark are late and meet <paramref name="policy"/> (<see cref="IngressPolicy.Drop"/> or
    /// <see cref="IngressPolicy.Adjust"/> keep the query going; <see cref="IngressPolicy.Throw"/> stops it).</para>
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="partitions"/> or <paramref name="eventTime"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="partitions"/> is empty or holds a null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="idleTimeout"/> is not positive.</exception>
    public static IQStream<T> From<T>(IReadOnlyList<EventSource<T>> partitions, Expression<Func<T, DateTimeOffset>> eventTime, IngressPolicy? policy = null, TimeSpan? idleTimeout = null, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(eventTime);
        return FromPartitions(partitions, idleTimeout, name, (source, partitionName) => From(source, eventTime, policy, partitionName));
    }

    /// <inheritdoc cref="From{T}(IReadOnlyList{EventSource{T}}, Expression{Func{T, DateTimeOffset}}, IngressPolicy?, TimeSpan?, string?)"/>
    public static IQStream<T> From<T>(IReadOnlyList<EventSource<T>> partitions, Expression<Func<T, DateTime>> eventTime, IngressPolicy? policy = null, TimeSpan? idleTimeout = null, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(eventTime);
        return FromPartitions(partitions, idleTimeout, name, (source, partitionName) => From(source, eventTime, policy, partitionName));
    }

    /// <inheritdoc cref="From{T}(IReadOnlyList{EventSource{T}}, Expression{Func{T, DateTimeOffset}}, IngressPolicy?, TimeSpan?, string?)"/>
    public static IQStream<T> From<T>(IReadOnlyList<EventSource<T>> partitions, Expression<Func<T, long>> eventTime, IngressPolicy? policy = null, TimeSpan? idleTimeout = null, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(eventTime);
        return FromPartitions(partitions, idleTimeout, name, (source, partitionName) => From(source, eventTime, policy, partitionName));
    }

    private static IQStream<T> FromPartitions<T>(IReadOnlyList<EventSource<T>> partitions, TimeSpan? idleTimeout, string? name, Func<EventSource<T>, string, IQStream<T>> from)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        if (partitions.Count == 0)
        {
            throw new ArgumentException("A partitioned source needs at least one partition.", nameof(partitions));
        }

        if (idleTimeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(idleTimeout), timeout, "The idle timeout must be positive, or null to wait for every partition.");
        }

        var group = idleTimeout is { } idle ? new PartitionGroup(idle) : null;
        var streams = new IQStream<T>[partitions.Count];
        for (int i = 0; i < partitions.Count; i++)
        {
            var partition = partitions[i] ?? throw new ArgumentException($"Partition {i} is null.", nameof(partitions));
            EventSource<T> source = group is null ? partition : new PartitionSource<T>(partition, group, i);
            streams[i] = from(source, name is null ? partition.Name : $"{name}[{i}]");
        }

        return streams.Length == 1 ? streams[0] : streams[0].Merge(streams[1..]);
    }
}
