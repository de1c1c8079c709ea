namespace LinqStream.Cli.Input;

/// <summary>
/// A stream named on the command line: <c>redis://HOST:PORT/STREAM</c> or <c>nats://HOST:PORT/SUBJECT</c>, optionally with
/// <c>?count=N</c>: the source then follows the stream and ends after N events (<see cref="BoundedSource{T}"/>).
/// </summary>
internal sealed record SourceUri(string Scheme, string Server, string Name, string Text)
{
    public const string Forms = "redis://HOST:PORT/STREAM or nats://HOST:PORT/SUBJECT";

    /// <summary>What a source URI may add: the count.</summary>
    public const string CountForm = "add ?count=N to read exactly N events (waiting for them)";

    /// <summary>Gets the number of events after which the source ends (<c>?count=N</c>), or null to end where <c>--follow</c> says.</summary>
    public long? Count { get; init; }

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

        long? count = null;
        if (parsed.Query.Length > 1)
        {
            var query = parsed.Query[1..];
            if (!query.StartsWith("count=", StringComparison.Ordinal)
                || !long.TryParse(query.AsSpan("count=".Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long n)
                || n < 1)
            {
                reason = $"'{text}' has the query '{parsed.Query}'; the one query a source takes is ?count=N (N >= 1: end after N events)";
                return false;
            }

            count = n;
        }

        int port = parsed.IsDefaultPort || parsed.Port < 0 ? (parsed.Scheme == "redis" ? 6379 : 4222) : parsed.Port;
        uri = new SourceUri(parsed.Scheme, $"{parsed.Host}:{port}", name, text) { Count = count };
        reason = string.Empty;
        return true;
    }

    /// <summary>Gets the server as its client library wants it: <c>HOST:PORT</c> for Redis, <c>nats://HOST:PORT</c> for NATS.</summary>
    public string Address => Scheme == "redis" ? Server : "nats://" + Server;

    /// <summary>
    /// A source over this stream; <paramref name="follow"/> keeps reading new messages, otherwise it ends after the last one there
    /// now. With <see cref="Count"/> it follows the stream and ends after that many events, whatever <paramref name="follow"/> says.
    /// </summary>
    public EventSource<T> CreateSource<T>(EventSerializer<T> serializer, bool follow) =>
        Count is { } count ? new BoundedSource<T>(Open(serializer, follow: true), count) : Open(serializer, follow);

    private EventSource<T> Open<T>(EventSerializer<T> serializer, bool follow) => Scheme == "redis"
        ? new RedisStreamSource<T>(Address, Name, serializer, new RedisStreamSourceOptions { StopAtEnd = !follow })
        : new NatsJetStreamSource<T>(Address, Name, serializer, new NatsJetStreamSourceOptions { StopAtEnd = !follow });
}
