namespace LinqStream;

/// <summary>Settings of a <see cref="RedisStreamSink{T}"/>.</summary>
public sealed record RedisStreamSinkOptions
{
    /// <summary>Gets the settings used when none are given.</summary>
    public static RedisStreamSinkOptions Default { get; } = new();

    /// <summary>Gets the entry field that holds the serialized result.</summary>
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

    /// <summary>Gets how many entries go to the server in one call (one script that runs <c>XADD</c> for each).</summary>
    /// <value>The default value is 1,024; valid values are 1 to 100,000. Every <c>WriteAsync</c> also sends what it was given.</value>
    public int ChunkSize
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 100_000);
            field = value;
        }
    } = 1024;

    /// <summary>Gets how the sink retries after losing the server.</summary>
    /// <value>The default value is <see cref="ReconnectPolicy.Default"/>.</value>
    public ReconnectPolicy Reconnect { get; init; } = ReconnectPolicy.Default;

    /// <summary>Gets the fence every chunk is checked against: a chunk is written only while the fence's key holds its epoch.</summary>
    /// <value>
    /// The default value is <see langword="null"/> (no fence). A job run by a cluster sets it to its activation's fence, so an activation that
    /// was declared dead cannot append (its chunk fails with <see cref="FencedWriteException"/>). The fence key and the stream must be on one
    /// server (with Redis Cluster, give them one hash tag).
    /// </value>
    public RedisFence? Fence { get; init; }
}
