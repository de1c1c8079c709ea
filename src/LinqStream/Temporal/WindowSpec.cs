namespace LinqStream.Temporal;

/// <summary>The kinds of window.</summary>
internal enum WindowKind
{
    Tumbling,
    Hopping,
    Session,
}

/// <summary>A window definition in ticks. Tumbling is hopping with <c>Hop == Size</c>.</summary>
internal sealed record WindowSpec(WindowKind Kind, long Size, long Hop, long Gap, long MaxDuration)
{
    public static WindowSpec Tumbling(long size) => new(WindowKind.Tumbling, size, size, 0, 0);

    public static WindowSpec Hopping(long size, long hop) => new(WindowKind.Hopping, size, hop, 0, 0);

    /// <param name="gap">A key's session ends after this long without events.</param>
    /// <param name="maxDuration">A session is cut after this long (0: never).</param>
    public static WindowSpec Session(long gap, long maxDuration) => new(WindowKind.Session, 0, 0, gap, maxDuration);

    /// <summary>Gets how many fixed windows hold each event (1 for tumbling).</summary>
    public int Passes => Kind == WindowKind.Session ? 1 : (int)Math.Min(int.MaxValue, (Size + Hop - 1) / Hop);

    public override string ToString() => Kind switch
    {
        WindowKind.Tumbling => $"Tumbling({TimeSpan.FromTicks(Size)})",
        WindowKind.Hopping => $"Hopping(size: {TimeSpan.FromTicks(Size)}, hop: {TimeSpan.FromTicks(Hop)})",
        _ => MaxDuration > 0 ? $"Session(gap: {TimeSpan.FromTicks(Gap)}, max: {TimeSpan.FromTicks(MaxDuration)})" : $"Session(gap: {TimeSpan.FromTicks(Gap)})",
    };
}
