namespace LinqStream;

/// <summary>Settings of one query run.</summary>
public sealed record QueryOptions
{
    /// <summary>The settings used when none are given.</summary>
    public static QueryOptions Default { get; } = new();

    /// <summary>Gets the number of events per batch.</summary>
    /// <value>The default value is 2,048 events; valid values are 1 to 1,048,576.</value>
    public int BatchSize
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 1 << 20);
            field = value;
        }
    } = 2048;

    /// <summary>Gets the clock used for processing-time work (idle live sources, periodic watermarks).</summary>
    /// <value>The default value is <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Gets a value indicating whether a slower fallback plan is an error instead of a note in the plan.</summary>
    /// <value>The default value is <see langword="false"/>; tests run strict.</value>
    public bool Strict { get; init; }

    /// <summary>Gets a value indicating whether filter and projection chains are fused into one kernel.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool Fuse { get; init; } = true;
}
