namespace LinqStream.Runtime;

/// <summary>A consumer that can read a batch it does not own: a multicast lends it the batch instead of handing it a copy.</summary>
/// <remarks>
/// During <see cref="OnBorrowedBatch"/> the consumer reads the batch and sends on batches of its own; it neither changes the
/// lent batch (not even its filter bits), nor keeps a reference to it, nor returns it to a pool. The lender still owns it.
/// </remarks>
internal interface IBatchBorrower<T> : IStreamObserver<T>
{
    /// <summary>Reads <paramref name="batch"/> without taking it over (see the type's remarks).</summary>
    void OnBorrowedBatch(EventBatch<T> batch);
}
