namespace LinqStream.Orleans;

/// <summary>A job built by a job definition for one activation: the grain runs it, reads its progress and disposes of it.</summary>
public sealed class ClusterJobRun : IAsyncDisposable
{
    private readonly Func<CancellationToken, Task<JobResult>> _run;
    private readonly Func<long> _lastCheckpoint;
    private readonly IAsyncDisposable _job;

    internal ClusterJobRun(Func<CancellationToken, Task<JobResult>> run, Func<long> lastCheckpoint, IAsyncDisposable job, DeliveryGuarantee guarantee, string guaranteeReason, IReadOnlyList<string> warnings)
    {
        _run = run;
        _lastCheckpoint = lastCheckpoint;
        _job = job;
        Guarantee = guarantee;
        GuaranteeReason = guaranteeReason;
        Warnings = warnings;
    }

    /// <summary>Gets what the job promises about its output across a take-over.</summary>
    public DeliveryGuarantee Guarantee { get; }

    /// <summary>Gets why the guarantee is what it is.</summary>
    public string GuaranteeReason { get; }

    /// <summary>Gets what the cluster could not guarantee for this job (for example a sink it cannot fence).</summary>
    public IReadOnlyList<string> Warnings { get; }

    internal long LastCheckpointId => _lastCheckpoint();

    internal Task<JobResult> RunAsync(CancellationToken cancellationToken) => _run(cancellationToken);

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _job.DisposeAsync();
}
