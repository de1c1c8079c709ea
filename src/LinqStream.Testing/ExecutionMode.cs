namespace LinqStream.Testing;

/// <summary>One way of running a query: batch size and fusion, always in strict mode (a fallback plan fails the test).</summary>
/// <param name="BatchSize">The number of events per batch; 1 exercises every batch boundary.</param>
/// <param name="Fuse">Whether filter and projection chains are fused into one kernel.</param>
/// <param name="Parallelism">The number of tasks a keyed window aggregate runs on (<see cref="QueryOptions.Parallelism"/>).</param>
/// <remarks>
/// A query must give the same answer in every mode: conformance tests take the mode as a theory parameter and compare each run
/// with the same oracle (see <see cref="All"/>).
/// </remarks>
public sealed record ExecutionMode(int BatchSize, bool Fuse, int Parallelism = 1)
{
    /// <summary>Gets the batch size used when none is chosen: large enough that a test's data set fits in a few batches.</summary>
    public const int LargeBatch = 4096;

    /// <summary>
    /// Gets every mode of the matrix: batch size 1 and <see cref="LargeBatch"/>, each fused and unfused, on one task; then
    /// parallelism 2 and 4 (issue #16), with small batches so that the exchanges and the merge cut the data many times.
    /// </summary>
    public static IReadOnlyList<ExecutionMode> All { get; } =
    [
        new(1, Fuse: true),
        new(1, Fuse: false),
        new(LargeBatch, Fuse: true),
        new(LargeBatch, Fuse: false),
        new(16, Fuse: true, Parallelism: 2),
        new(LargeBatch, Fuse: true, Parallelism: 4),
    ];

    /// <summary>Gets the query options of this mode, with <see cref="QueryOptions.Strict"/> on.</summary>
    public QueryOptions Options => new() { Strict = true, BatchSize = BatchSize, Fuse = Fuse, Parallelism = Parallelism };

    /// <inheritdoc/>
    public override string ToString() => $"batch {BatchSize}, {(Fuse ? "fused" : "unfused")}{(Parallelism > 1 ? $", parallelism {Parallelism}" : string.Empty)}";
}
