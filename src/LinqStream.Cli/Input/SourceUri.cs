namespace LinqStream.Cli.Input;

/// <summary>A stream named on the command line: <c>redis://HOST:PORT/STREAM</c> or <c>nats://HOST:PORT/SUBJECT</c>.</summary>
internal sealed record SourceUri(string Scheme, string Server, string Name, string Text)
{
    public const string Forms = "redis://HOST:PORT/STREAM or nats://HOST:PORT/SUBJECT";

    public static bool TryParse(string text, out SourceUri? uri, out string reason)
    {
        uri = null;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("redis" or "nats"))
        {
            reason = $"'{text}' is not {Forms}";
            return false;
        }

        var name = Uri.UnescapeDataString(parsed.AbsolutePath.TrimStart('/'));
        if (name.Length == 0)
        {
            reason = $"'{text}' names no {(parsed.Scheme == "redis" ? "stream" : "subject")}: write {Forms}";
            return false;
        }

        int port = parsed.IsDefaultPort || parsed.Port < 0 ? (parsed.Scheme == "redis" ? 6379 : 4222) : parsed.Port;
        uri = new SourceUri(parsed.Scheme, $"{parsed.Host}:{port}", name, text);
        reason = string.Empty;
        return true;
    }

    /// <summary>Gets the server as its client library wants it: <c>HOST:PORT</c> for Redis, <c>nats://HOST:PORT</c> for NATS.</summary>
    public string Address => Scheme == "redis" ? Server : "nats://" + Server;

    /// <summary>A source over this stream; <paramref name="follow"/> keeps reading new messages, otherwise it ends after the last one there now.</summary>
    public EventSource<T> CreateSource<T>(EventSerializer<T> serializer, bool follow) => Scheme == "redis"
        ? new RedisStreamSource<T>(Address, Name, serializer, new RedisStreamSourceOptions { StopAtEnd = !follow })
        : new NatsJetStreamSource<T>(Address, Name, serializer, new NatsJetStreamSourceOptions { StopAtEnd = !follow });
}
