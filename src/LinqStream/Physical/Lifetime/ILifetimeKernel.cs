namespace LinqStream.Physical.Lifetime;

/// <summary>A stateless change of lifetimes, applied to a whole batch in place, and the matching change of watermarks.</summary>
/// <remarks>
/// Implemented by small readonly structs so that <see cref="LifetimeOperator{T, TKernel}"/> is specialised per kernel by the
/// JIT: one loop over the time columns per batch, no call per event. The start map must be nondecreasing (so start order
/// is kept) and <see cref="MapWatermark"/> must be a lower bound of the mapped start of every event with start ≥ the watermark.
/// </remarks>
internal interface ILifetimeKernel
{
    /// <summary>Rewrites <c>start</c>/<c>end</c> of the first <paramref name="count"/> events; events left with an empty lifetime are marked absent.</summary>
    /// <returns><see langword="true"/> when at least one event was marked absent.</returns>
    bool Apply(long[] start, long[] end, ulong[] absent, int count);

    /// <summary>Maps an input watermark to the output watermark (monotone; infinities stay infinite).</summary>
    long MapWatermark(long watermark);
}
