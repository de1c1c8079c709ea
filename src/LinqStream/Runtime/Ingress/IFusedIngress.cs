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
