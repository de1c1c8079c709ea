namespace LinqStream.Runtime.Ingress;

/// <summary>
/// The operator right after a replayed array's ingress when it can read the array itself: a filter/projection chain whose kernel
/// also computes the event times, so each event object is read once (issue #19; docs/architecture.md, "Fused ingress").
/// </summary>
internal interface IFusedIngress<T>
{
    /// <summary>Gets a value indicating whether the operator has a fused kernel for this ingress.</summary>
    bool CanFuse { get; }

    /// <summary>
    /// Runs the event-time selector and the chain over <c>source[offset .. offset + count)</c> and, when the events are in order
    /// (<see cref="IngressOrderer{T}.TryAcceptInOrder"/>), sends the present ones on and then the watermark.
    /// </summary>
    /// <returns>
    /// <see langword="false"/>, having sent nothing and changed no state, when the slice needs the ordinary path: an event is
    /// out of order or late, the selector or the chain threw, or the operator failed. The source then reads the same slice as a batch.
    /// </returns>
    bool TryPushFused(T[] source, int offset, int count, IngressOrderer<T> orderer);
}

/// <summary>
/// One consumer of a multicast ingress that can read the array slice itself (a fused filter/projection chain): a multicast over a
/// replayed array is fused only when every consumer is one (<c>MulticastOperator</c>, docs/architecture.md, "Fused ingress"). The
/// multicast runs every branch's kernel over the slice first (<see cref="TryRunFused"/>), checks the order of the starts once, and
/// then sends every branch's batch in the multicast's order (<see cref="SendPending"/>), or drops them all (<see cref="DiscardPending"/>).
/// </summary>
internal interface IFusedBranch<T>
{
    /// <summary>Gets a value indicating whether the branch has a fused kernel for this ingress.</summary>
    bool CanFuse { get; }

    /// <summary>Gets the starts the last <see cref="TryRunFused"/> computed, one per event of the slice (empty when none is pending).</summary>
    ReadOnlySpan<long> PendingStarts { get; }

    /// <summary>
    /// Runs the event-time selector and the chain over <c>source[offset .. offset + count)</c> into a batch the branch keeps pending,
    /// sending nothing; false, with nothing pending and no state changed, when the selector or the chain threw or the branch failed.
    /// </summary>
    bool TryRunFused(T[] source, int offset, int count);

    /// <summary>Sends the pending batch's present events on (compacted when sparse, ends of point events written).</summary>
    void SendPending();

    /// <summary>Gives back the pending batch, if any, unsent.</summary>
    void DiscardPending();
}
