namespace LinqStream;

/// <summary>Settings of a <see cref="NatsJetStreamSink{T}"/>.</summary>
public sealed record NatsJetStreamSinkOptions
{
    /// <summary>Gets the settings used when none are given.</summary>
    public static NatsJetStreamSinkOptions Default { get; } = new();

    /// <summary>Gets the JetStream stream that stores the subject; it is created (file storage) when missing.</summary>
    /// <value>The default value is <see langword="null"/>: the subject with '.', '*' and '&gt;' replaced by '_'.</value>
    public string? Stream { get; init; }

    /// <summary>Gets the start of every message id (<c>Nats-Msg-Id: prefix-sequence</c>).</summary>
    /// <value>The default value is <see langword="null"/>: the subject.</value>
    public string? MessageIdPrefix { get; init; }

    /// <summary>Gets how many publishes are in flight at once before the sink waits for their acknowledgements.</summary>
    /// <value>The default value is 512; valid values are 1 to 100,000. Every <c>WriteAsync</c> also waits for what it was given.</value>
    public int ChunkSize
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 100_000);
            field = value;
        }
    } = 512;

    /// <summary>Gets how the sink retries after losing the server.</summary>
    /// <value>The default value is <see cref="ReconnectPolicy.Default"/>.</value>
    public ReconnectPolicy Reconnect { get; init; } = ReconnectPolicy.Default;
}
