namespace LinqStream.Runtime.Ingress;

/// <summary>One partition of <c>QStream.From(partitions, ..., idleTimeout)</c>: the partition's own source, tagged with its group.</summary>
internal sealed class PartitionSource<T>(EventSource<T> inner, PartitionGroup group, int index) : TaggedSource<T>(inner)
{
    public PartitionGroup Group { get; } = group;

    public int Index { get; } = index;
}

/// <summary>A partition's own source with something the planner reads from it: every call goes to the source itself.</summary>
internal abstract class TaggedSource<T>(EventSource<T> inner) : EventSource<T>
{
    private readonly EventSource<T> _inner = inner;

    public override string Name => _inner.Name;

    public override bool CanReplay => _inner.CanReplay;

    public override ValueTask OpenAsync(SourceContext context, byte[]? position, CancellationToken cancellationToken) =>
        _inner.OpenAsync(context, position, cancellationToken);

    public override ValueTask<SourceRead> ReadAsync(Memory<T> buffer, CancellationToken cancellationToken) =>
        _inner.ReadAsync(buffer, cancellationToken);

    public override byte[] GetPosition() => _inner.GetPosition();

    public override async ValueTask DisposeAsync()
    {
        await _inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
