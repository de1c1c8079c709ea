using System.Net.Sockets;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace LinqStream.Connectors.Nats;

/// <summary>Connection set-up, stream set-up and the errors that mean "the server is gone for now" for every NATS connector.</summary>
internal static class NatsConnections
{
    /// <summary>The longest wait for one request (a fetch, a publish's acknowledgement) before it counts as a lost server.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    public static NatsConnection Connect(string url, ReconnectPolicy policy) =>
        new(NatsOpts.Default with
        {
            Url = url,
            Name = "linqstream",
            // Reconnect for ever at the client level; the connector's own policy decides when to give up, and shows each failure.
            MaxReconnectRetry = -1,
            ReconnectWaitMin = policy.InitialDelay,
            ReconnectWaitMax = policy.MaxDelay,
            ConnectTimeout = TimeSpan.FromSeconds(2),
            RequestTimeout = RequestTimeout,
        });

    /// <summary>
    /// Connects the first time; afterwards the client reconnects by itself, and a call made meanwhile would be queued
    /// silently, so a connection that is not open throws here and the connector's retry shows it.
    /// </summary>
    public static async ValueTask EnsureConnectedAsync(NatsConnection connection)
    {
        switch (connection.ConnectionState)
        {
            case NatsConnectionState.Open:
                return;
            case NatsConnectionState.Closed:
                await connection.ConnectAsync().ConfigureAwait(false);
                return;
            default:
                throw new NatsException($"The connection to {connection.Opts.Url} is {connection.ConnectionState}.");
        }
    }

    /// <summary>Gets the connector name, <c>nats://host:port/subject</c>.</summary>
    public static string Name(string url, string subject)
    {
        var trimmed = url.Split(',')[0].Trim();
        if (!trimmed.Contains("://", StringComparison.Ordinal))
        {
            trimmed = "nats://" + trimmed;
        }

        return $"{trimmed.TrimEnd('/')}/{subject}";
    }

    /// <summary>The stream name used for a subject when none is given: the subject with '.', '*' and '>' replaced by '_'.</summary>
    public static string DefaultStreamName(string subject) =>
        subject.Replace('.', '_').Replace('*', '_').Replace('>', '_');

    /// <summary>Creates the stream when it does not exist (file storage, the subject as its only subject).</summary>
    public static async ValueTask EnsureStreamAsync(INatsJSContext js, string stream, string subject, CancellationToken cancellationToken)
    {
        try
        {
            await js.GetStreamAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSApiException ex) when (ex.Error.Code == 404)
        {
            try
            {
                await js.CreateStreamAsync(new StreamConfig(stream, [subject]) { Storage = StreamConfigStorage.File }, cancellationToken).ConfigureAwait(false);
            }
            catch (NatsJSApiException created) when (created.Error.ErrCode == 10058)
            {
                // Created by another connector in between.
            }
        }
    }

    /// <summary>Whether <paramref name="error"/> is a lost or not-yet-ready server rather than a mistake in the request.</summary>
    public static bool IsTransient(Exception error) => error switch
    {
        // An API error is the server's answer: only "unavailable" and "timed out" are worth retrying.
        NatsJSApiException api => api.Error.Code is 503 or 408,
        NatsException or SocketException or IOException or TimeoutException => true,
        AggregateException aggregate => aggregate.InnerExceptions.Count == 1 && IsTransient(aggregate.InnerExceptions[0]),
        _ => false,
    };
}
