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

    public void Closed(string position) => Set(new ConnectionStatus(_name, ConnectionState.Closed, null, 0, TimeSpan.Zero, position));

    /// <summary>Records a failed call and waits before the next attempt; throws when the policy gives up.</summary>
    public async ValueTask FailedAsync(Exception error, string position, CancellationToken cancellationToken)
    {
        int attempt = Status.State == ConnectionState.Reconnecting ? Status.Attempt + 1 : 1;
        if (attempt == 1)
        {
            _firstFailure = _time.GetTimestamp();
        }

        if (_policy.GiveUpAfter is { } limit && _time.GetElapsedTime(_firstFailure) >= limit)
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
