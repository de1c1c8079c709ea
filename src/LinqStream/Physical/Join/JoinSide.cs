namespace LinqStream.Physical.Join;

/// <summary>
/// Which input of a buffered join a run step (<see cref="IJoinRunStep{T, TKey}"/>) serves, given as a type argument
/// (<see cref="LeftSide"/> or <see cref="RightSide"/>): one step struct then serves both sides, and since each side's loop is
/// compiled for its own type argument, the test of <see cref="IsLeft"/> is a constant there (no branch per event).
/// </summary>
internal interface IJoinSide
{
    /// <summary>Gets whether the step serves the left input.</summary>
    static abstract bool IsLeft { get; }
}

/// <summary>The left input of a buffered join, as a type argument (<see cref="IJoinSide"/>).</summary>
internal readonly struct LeftSide : IJoinSide
{
    public static bool IsLeft => true;
}

/// <summary>The right input of a buffered join, as a type argument (<see cref="IJoinSide"/>).</summary>
internal readonly struct RightSide : IJoinSide
{
    public static bool IsLeft => false;
}
