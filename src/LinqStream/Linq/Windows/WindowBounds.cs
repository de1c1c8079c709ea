using LinqStream.Temporal;

namespace LinqStream;

/// <summary>The logical bounds of a window, as Flink's <c>window_start</c> and <c>window_end</c>.</summary>
/// <remarks>For a session window, <see cref="Start"/> is the first event's time and <see cref="End"/> the last event's time plus the gap.</remarks>
public readonly struct WindowBounds : IEquatable<WindowBounds>
{
    internal WindowBounds(long startTicks, long endTicks)
    {
        StartTicks = startTicks;
        EndTicks = endTicks;
    }

    /// <summary>Creates bounds from ticks.</summary>
    /// <param name="startTicks">The first tick inside the window.</param>
    /// <param name="endTicks">The first tick after the window.</param>
    /// <returns>The bounds.</returns>
    public static WindowBounds FromTicks(long startTicks, long endTicks) => new(startTicks, endTicks);

    /// <summary>Gets the first instant inside the window.</summary>
    public DateTimeOffset Start => Ticks.ToDateTimeOffset(StartTicks);

    /// <summary>Gets the first instant after the window (exclusive).</summary>
    public DateTimeOffset End => Ticks.ToDateTimeOffset(EndTicks);

    /// <summary>Gets the window's start in ticks.</summary>
    public long StartTicks { get; }

    /// <summary>Gets the window's end in ticks (exclusive).</summary>
    public long EndTicks { get; }

    /// <summary>Gets the window's length.</summary>
    public TimeSpan Duration => TimeSpan.FromTicks(EndTicks - StartTicks);

    /// <summary>Compares two bounds.</summary>
    /// <param name="left">The first.</param>
    /// <param name="right">The second.</param>
    /// <returns>Whether they are equal.</returns>
    public static bool operator ==(WindowBounds left, WindowBounds right) => left.Equals(right);

    /// <summary>Compares two bounds.</summary>
    /// <param name="left">The first.</param>
    /// <param name="right">The second.</param>
    /// <returns>Whether they differ.</returns>
    public static bool operator !=(WindowBounds left, WindowBounds right) => !left.Equals(right);

    /// <inheritdoc/>
    public bool Equals(WindowBounds other) => StartTicks == other.StartTicks && EndTicks == other.EndTicks;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is WindowBounds other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(StartTicks, EndTicks);

    /// <inheritdoc/>
    public override string ToString() => $"[{Start:O}, {End:O})";
}
