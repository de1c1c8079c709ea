namespace LinqStream.Connectors.Nats;

/// <summary>How a fetch ended.</summary>
internal enum FetchOutcome
{
    /// <summary>The request is open and the buffer has room: more bytes are needed (the own reader only).</summary>
    More,

    /// <summary>The request ended: all its messages came, or the server said there are no more now.</summary>
    Done,

    /// <summary>The buffer is full and the request is still open (the rest is taken by the next read).</summary>
    Full,

    /// <summary>A message past a bounded replay's end came.</summary>
    PastEnd,

    /// <summary>The consumer's delivery numbers jumped, or a message had no acknowledgement subject: make a new consumer.</summary>
    Broken,

    /// <summary>The own reader cannot serve this server (TLS or credentials).</summary>
    Unsupported,
}
