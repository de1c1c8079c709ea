using System.Linq.Expressions;

namespace LinqStream.Runtime.Ingress;

/// <summary>
/// What a partitioned source declares (<c>QStream.FromKeyPartitioned</c>): partition <see cref="Index"/> of <see cref="Partitions"/>
/// holds exactly the events whose <see cref="Key"/> is in key groups <see cref="First"/> to <see cref="End"/> - 1 of
/// <see cref="KeyGroups"/> (the range a task <see cref="Index"/> of <see cref="Partitions"/> would own).
/// </summary>
internal sealed record KeyPartitioning(LambdaExpression Key, int KeyGroups, int Partitions, int Index)
{
    public int First => Parallel.KeyGroups.RangeOf(Index, KeyGroups, Partitions).First;

    public int End => Parallel.KeyGroups.RangeOf(Index, KeyGroups, Partitions).End;

    /// <summary>Whether this declaration and <paramref name="other"/> are partitions of one declaration (same key text, key groups and count).</summary>
    public bool SameDeclaration(KeyPartitioning other) =>
        other.KeyGroups == KeyGroups && other.Partitions == Partitions && other.Key.ToString() == Key.ToString() && other.Key.Type == Key.Type;
}

/// <summary>One partition of <c>QStream.FromKeyPartitioned</c>: the partition's own source, tagged with what it declares.</summary>
internal sealed class KeyPartitionedSource<T>(EventSource<T> inner, KeyPartitioning partitioning) : TaggedSource<T>(inner)
{
    public KeyPartitioning Partitioning { get; } = partitioning;
}
