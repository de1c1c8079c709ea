namespace LinqStream.Testing.Io;

/// <summary>Passes results to another sink and cancels the job once <c>stopAfter</c> results went through: a "crash" at a chosen point.</summary>
/// <typeparam name="T">The result type.</typeparam>
/// <param name="inner">The sink that keeps the results.</param>
/// <param name="stopAfter">How many results to let through before cancelling; negative never cancels.</param>
/// <param name="stop">The source of the job's cancellation token.</param>
public sealed class StoppingSink<T>(EventSink<T> inner, int stopAfter, CancellationTokenSource stop) : EventSink<T>
{
    private int _written;

    /// <inheritdoc/>
    public override string Name => inner.Name;

    /// <inheritdoc/>
    public override bool IsTransactional => inner.IsTransactional;

    /// <inheritdoc/>
    public override ValueTask OpenAsync(byte[]? committed, CancellationToken cancellationToken) => inner.OpenAsync(committed, cancellationToken);

    /// <inheritdoc/>
    public override async ValueTask WriteAsync(ReadOnlyMemory<T> results, CancellationToken cancellationToken)
    {
        await inner.WriteAsync(results, cancellationToken).ConfigureAwait(false);
        _written += results.Length;
        if (stopAfter >= 0 && _written >= stopAfter)
        {
            await stop.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public override ValueTask<byte[]> PrepareCommitAsync(long checkpointId, CancellationToken cancellationToken) => inner.PrepareCommitAsync(checkpointId, cancellationToken);

    /// <inheritdoc/>
    public override ValueTask CompleteAsync(CancellationToken cancellationToken) => inner.CompleteAsync(cancellationToken);

    /// <inheritdoc/>
    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
