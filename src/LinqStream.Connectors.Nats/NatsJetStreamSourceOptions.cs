namespace LinqStream;

/// <summary>Settings of a <see cref="NatsJetStreamSource{T}"/>.</summary>
public sealed record NatsJetStreamSourceOptions
{
    /// <summary>Gets the settings used when none are given.</summary>
    public static NatsJetStreamSourceOptions Default { get; } = new();

    /// <summary>Gets the JetStream stream that stores the subject.</summary>
    /// <value>The default value is <see langword="null"/>: the subject with '.', '*' and '&gt;' replaced by '_' (the name that <c>linqstream produce</c> and <see cref="NatsJetStreamSink{T}"/> use).</value>
    public string? Stream { get; init; }

    /// <summary>
    /// Gets the most messages asked for in one pull request. The source's own reader asks for this many even when the engine's buffer
    /// is smaller, and hands the rest of the reply to the next reads; through NATS.Net (TLS, credentials, several servers) a fetch asks
    /// for no more than the engine's buffer.
    /// </summary>
    /// <value>The default value is 4,096; valid values are 1 to 100,000.</value>
    public int BatchSize
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 100_000);
            field = value;
        }
    } = 4096;

    /// <summary>Gets how long the source waits before asking again when the stream had nothing new, so the engine sees an idle partition.</summary>
    /// <value>The default value is 20 ms; valid values are 1 ms to 10 s.</value>
    public TimeSpan PollInterval
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.FromMilliseconds(1));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, TimeSpan.FromSeconds(10));
            field = value;
        }
    } = TimeSpan.FromMilliseconds(20);

    /// <summary>Gets a value indicating whether the source ends once it has read every message that existed when it was opened (a bounded replay).</summary>
    /// <value>The default value is <see langword="false"/>: the source follows the subject for ever.</value>
    public bool StopAtEnd { get; init; }

    /// <summary>Gets how the source retries after losing the server.</summary>
    /// <value>The default value is <see cref="ReconnectPolicy.Default"/>.</value>
    public ReconnectPolicy Reconnect { get; init; } = ReconnectPolicy.Default;

    /// <summary>Gets what the source does when its saved position is no longer in the stream (purged, deleted or made again while the job was down or idle).</summary>
    /// <value>The default value is <see cref="InputGapPolicy.Fail"/>: the read fails with an <see cref="InputGapException"/>.</value>
    public InputGapPolicy OnGap { get; init; } = InputGapPolicy.Fail;
}
