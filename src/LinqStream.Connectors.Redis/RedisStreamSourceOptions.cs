namespace LinqStream;

/// <summary>Settings of a <see cref="RedisStreamSource{T}"/>.</summary>
public sealed record RedisStreamSourceOptions
{
    /// <summary>Gets the settings used when none are given.</summary>
    public static RedisStreamSourceOptions Default { get; } = new();

    /// <summary>Gets the entry field that holds the serialized event.</summary>
    /// <value>The default value is <c>data</c>.</value>
    public string Field
    {
        get;
        init
        {
            ArgumentException.ThrowIfNullOrEmpty(value);
            field = value;
        }
    } = "data";

    /// <summary>Gets the most entries asked for in one <c>XREAD</c> (never more than the engine's buffer).</summary>
    /// <value>The default value is 4,096; valid values are 1 to 1,000,000.</value>
    public int BatchSize
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 1_000_000);
            field = value;
        }
    } = 4096;

    /// <summary>Gets how long one read waits on the server (<c>XREAD BLOCK</c>) when the stream has nothing new, before the source reports itself idle.</summary>
    /// <value>The default value is 50 ms; valid values are 1 ms to 10 s.</value>
    public TimeSpan BlockTime
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.FromMilliseconds(1));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, TimeSpan.FromSeconds(10));
            field = value;
        }
    } = TimeSpan.FromMilliseconds(50);

    /// <summary>Gets a value indicating whether the source ends once it has read every entry that existed when it was opened (a bounded replay).</summary>
    /// <value>The default value is <see langword="false"/>: the source follows the stream for ever.</value>
    public bool StopAtEnd { get; init; }

    /// <summary>Gets how the source retries after losing the server.</summary>
    /// <value>The default value is <see cref="ReconnectPolicy.Default"/>.</value>
    public ReconnectPolicy Reconnect { get; init; } = ReconnectPolicy.Default;

    /// <summary>Gets what the source does when its saved position is no longer in the stream (trimmed, deleted or made again while the job was down or idle).</summary>
    /// <value>The default value is <see cref="InputGapPolicy.Fail"/>: the read fails with an <see cref="InputGapException"/>.</value>
    public InputGapPolicy OnGap { get; init; } = InputGapPolicy.Fail;
}
