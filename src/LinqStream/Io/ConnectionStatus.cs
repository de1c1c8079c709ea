namespace LinqStream;

/// <summary>The state of a connector's link to its server.</summary>
public enum ConnectionState
{
    /// <summary>Not opened yet, or opening.</summary>
    Connecting,

    /// <summary>Reading or writing normally.</summary>
    Connected,

    /// <summary>The last call failed; the connector waits <see cref="ConnectionStatus.RetryIn"/> and tries again from its position.</summary>
    Reconnecting,

    /// <summary>The connector gave up (<see cref="ReconnectPolicy.GiveUpAfter"/>) and the query fails with <see cref="ConnectionStatus.Error"/>.</summary>
    Failed,

    /// <summary>The connector was closed.</summary>
    Closed,
}

/// <summary>A change of a connector's connection state, raised so that connection errors are seen, not swallowed.</summary>
/// <param name="Connector">The connector's name (for example <c>redis://127.0.0.1:6379/bids</c>).</param>
/// <param name="State">The new state.</param>
/// <param name="Error">The error that caused a <see cref="ConnectionState.Reconnecting"/> or <see cref="ConnectionState.Failed"/> state.</param>
/// <param name="Attempt">How many calls in a row have failed (0 when connected).</param>
/// <param name="RetryIn">How long the connector waits before the next attempt.</param>
/// <param name="Position">The position the connector resumes from, in the connector's words (an entry id, a sequence number).</param>
public sealed record ConnectionStatus(string Connector, ConnectionState State, Exception? Error, int Attempt, TimeSpan RetryIn, string Position)
{
    /// <inheritdoc/>
    public override string ToString() => State switch
    {
        ConnectionState.Reconnecting => $"{Connector}: {Error?.Message} (attempt {Attempt}, retrying in {RetryIn.TotalMilliseconds:0} ms from {Position})",
        ConnectionState.Failed => $"{Connector}: gave up after {Attempt} attempts at {Position}: {Error?.Message}",
        _ => $"{Connector}: {State} at {Position}",
    };
}

/// <summary>How a connector retries after losing its server: exponential backoff from <see cref="InitialDelay"/> to <see cref="MaxDelay"/>.</summary>
public sealed record ReconnectPolicy
{
    /// <summary>Gets the policy used when none is given.</summary>
    public static ReconnectPolicy Default { get; } = new();

    /// <summary>Gets the wait after the first failure; each further failure doubles it.</summary>
    /// <value>The default value is 50 ms; it must be positive.</value>
    public TimeSpan InitialDelay
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            field = value;
        }
    } = TimeSpan.FromMilliseconds(50);

    /// <summary>Gets the longest wait between attempts.</summary>
    /// <value>The default value is 5 seconds; it must be positive.</value>
    public TimeSpan MaxDelay
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            field = value;
        }
    } = TimeSpan.FromSeconds(5);

    /// <summary>Gets how long failures may last before the connector gives up and the query fails.</summary>
    /// <value>The default value is <see langword="null"/>: retry for ever (the status shows every failure).</value>
    public TimeSpan? GiveUpAfter { get; init; }

    /// <summary>Gets the wait before attempt <paramref name="attempt"/> + 1.</summary>
    /// <param name="attempt">How many attempts in a row have failed (1 for the first failure).</param>
    /// <returns>The delay: <see cref="InitialDelay"/> × 2^(attempt − 1), at most <see cref="MaxDelay"/>.</returns>
    public TimeSpan GetDelay(int attempt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        var ticks = InitialDelay.Ticks;
        for (int i = 1; i < attempt && ticks < MaxDelay.Ticks; i++)
        {
            ticks *= 2;
        }

        return TimeSpan.FromTicks(Math.Min(ticks, MaxDelay.Ticks));
    }
}
