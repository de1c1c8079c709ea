namespace LinqStream.Connectors.Tests.Jobs;

/// <summary>Passes results to a sink and cancels the job once <c>stopAfter</c> results went through (the "crash").</summary>
public sealed class StoppingSink<T>(EventSink<T> inner, int stopAfter, CancellationTokenSource stop) : EventSink<T>
{
    private int _written;

    public override string Name => inner.Name;

    public override bool IsTransactional => inner.IsTransactional;

    public override ValueTask OpenAsync(byte[]? committed, CancellationToken cancellationToken) => inner.OpenAsync(committed, cancellationToken);

    public override async ValueTask WriteAsync(ReadOnlyMemory<T> results, CancellationToken cancellationToken)
    {
        await inner.WriteAsync(results, cancellationToken);
        _written += results.Length;
        if (stopAfter >= 0 && _written >= stopAfter)
        {
            await stop.CancelAsync();
        }
    }

    public override ValueTask<byte[]> PrepareCommitAsync(long checkpointId, CancellationToken cancellationToken) => inner.PrepareCommitAsync(checkpointId, cancellationToken);

    public override ValueTask CompleteAsync(CancellationToken cancellationToken) => inner.CompleteAsync(cancellationToken);

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        await base.DisposeAsync();
    }
}
