using System.Net.Sockets;
using StackExchange.Redis;

namespace LinqStream.Connectors.Redis;

/// <summary>Connection set-up and the errors that mean "the server is gone for now" for every Redis connector.</summary>
internal static class RedisConnections
{
    public static ConfigurationOptions Options(string configuration, ReconnectPolicy policy)
    {
        var options = ConfigurationOptions.Parse(configuration);
        // Start even when the server is down (the connector retries with its own visible status), and reconnect quickly.
        options.AbortOnConnectFail = false;
        options.ReconnectRetryPolicy = new ExponentialRetry((int)Math.Max(1, policy.InitialDelay.TotalMilliseconds), (int)Math.Max(1, policy.MaxDelay.TotalMilliseconds));
        options.ConnectTimeout = Math.Min(options.ConnectTimeout, 2000);
        // Fail a call at once while disconnected instead of queueing it silently: the connector's retry shows the error.
        options.BacklogPolicy = BacklogPolicy.FailFast;
        return options;
    }

    public static async Task<ConnectionMultiplexer> ConnectAsync(string configuration, ReconnectPolicy policy) =>
        await ConnectionMultiplexer.ConnectAsync(Options(configuration, policy)).ConfigureAwait(false);

    /// <summary>Gets the connector name, <c>redis://host:port/stream</c>.</summary>
    public static string Name(string configuration, string stream)
    {
        int comma = configuration.IndexOf(',', StringComparison.Ordinal);
        var endpoint = comma < 0 ? configuration : configuration[..comma];
        return $"redis://{endpoint.Trim()}/{stream}";
    }

    /// <summary>Whether <paramref name="error"/> is a lost or not-yet-ready server rather than a mistake in the request.</summary>
    public static bool IsTransient(Exception error) => error switch
    {
        RedisConnectionException or RedisTimeoutException or SocketException or IOException or TimeoutException => true,
        // A restarted server answers LOADING while it reads its data back, and a replica may answer READONLY / MASTERDOWN.
        RedisServerException server => server.Message.StartsWith("LOADING", StringComparison.Ordinal)
            || server.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal)
            || server.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal),
        AggregateException aggregate => aggregate.InnerExceptions.Count == 1 && IsTransient(aggregate.InnerExceptions[0]),
        _ => false,
    };
}
