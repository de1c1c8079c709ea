namespace LinqStream.Connectors;

/// <summary>
/// A connector's connection state: counts failures in a row, waits the policy's backoff, raises every change and gives up
/// when the policy says so. Shared by the Redis and NATS connectors as a linked source file.
/// </summary>
internal sealed class ConnectorHealth
{
    private readonly string _name;
    private readonly ReconnectPolicy _policy;
    private readonly Action<ConnectionStatus> _raise;
    private TimeProvider _time = TimeProvider.System;
    private long _firstFailure;

    public ConnectorHealth(string name, ReconnectPolicy policy, Action<ConnectionStatus> raise)
    {
        _name = name;
        _policy = policy;
        _raise = raise;
        Status = new ConnectionStatus(name, ConnectionState.Connecting, null, 0, TimeSpan.Zero, "start");
    }

    public ConnectionStatus Status { get; private set; }

    public TimeProvider TimeProvider
    {
        get => _time;
        set => _time = value;
    }

    public void Connected(string position)
    {
        if (Status.State == ConnectionState.Connected)
        {
            return;
        }

        Set(new ConnectionStatus(_name, ConnectionState.Connected, null, 0, TimeSpan.Zero, position));
    }

    /// <summary>Records an error that ends the connector (not worth retrying), so the state says so before the error is thrown.</summary>
    public void Fail(Exception error, string position) => Set(new ConnectionStatus(_name, ConnectionState.Failed, error, Status.Attempt, TimeSpan.Zero, position));

    public void Closed(string position) => Set(new ConnectionStatus(_name, ConnectionState.Closed, null, 0, TimeSpan.Zero, position));

    /// <summary>How long a sink retries one write when its <see cref="ReconnectPolicy.GiveUpAfter"/> is not set: a job whose output cannot be written must fail, not wait for ever.</summary>
    public static readonly TimeSpan DefaultSinkGiveUpAfter = TimeSpan.FromMinutes(2);

    /// <summary>Records a failed call and waits before the next attempt; throws when the policy (or <paramref name="giveUpAfter"/> when the policy has no limit) gives up.</summary>
    public async ValueTask FailedAsync(Exception error, string position, CancellationToken cancellationToken, TimeSpan? giveUpAfter = null)
    {
        int attempt = Status.State == ConnectionState.Reconnecting ? Status.Attempt + 1 : 1;
        if (attempt == 1)
        {
            _firstFailure = _time.GetTimestamp();
        }

        if ((_policy.GiveUpAfter ?? giveUpAfter) is { } limit && _time.GetElapsedTime(_firstFailure) >= limit)
        {
            Set(new ConnectionStatus(_name, ConnectionState.Failed, error, attempt, TimeSpan.Zero, position));
            throw new IOException($"{_name} could not reach its server for {limit.TotalSeconds:0.###} s ({attempt} attempts) at {position}: {error.Message}", error);
        }

        var delay = _policy.GetDelay(attempt);
        Set(new ConnectionStatus(_name, ConnectionState.Reconnecting, error, attempt, delay, position));
        await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
    }

    private void Set(ConnectionStatus status)
    {
        Status = status;
        _raise(status);
    }
}
