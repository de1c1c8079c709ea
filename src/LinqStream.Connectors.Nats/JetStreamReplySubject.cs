using System.Globalization;

namespace LinqStream.Connectors.Nats;

/// <summary>
/// Reads the stream and consumer sequences out of a JetStream message's reply subject (<c>$JS.ACK...</c>) without allocating, in
/// place of the client's <c>NatsJSMsg.Metadata</c>, which splits the subject into a string per token (about a dozen objects per
/// message, more client CPU than the JSON decoding of a small event).
/// </summary>
/// <remarks>
/// The two layouts of NATS' ADR-15: <c>$JS.ACK.stream.consumer.delivered.sseq.cseq.ts.pending</c> (9 tokens) and
/// <c>$JS.ACK.domain.hash.stream.consumer.delivered.sseq.cseq.ts.pending[.token]</c> (11 or 12 tokens).
/// </remarks>
internal static class JetStreamReplySubject
{
    private const int V1Tokens = 9;
    private const int V2Tokens = 11;
    private const int V2TokensWithRandom = 12;

    /// <summary>Reads the sequences; false when <paramref name="replyTo"/> is not a JetStream acknowledgement subject.</summary>
    public static bool TryParseSequences(string? replyTo, out ulong streamSequence, out ulong consumerSequence)
    {
        streamSequence = 0;
        consumerSequence = 0;
        if (replyTo is null || !replyTo.StartsWith("$JS.ACK.", StringComparison.Ordinal))
        {
            return false;
        }

        var text = replyTo.AsSpan();
        int tokens = text.Count('.') + 1;
        int streamToken;
        if (tokens == V1Tokens)
        {
            streamToken = 5;
        }
        else if (tokens is V2Tokens or V2TokensWithRandom)
        {
            streamToken = 7;
        }
        else
        {
            return false;
        }

        var rest = text;
        for (int i = 0; i < streamToken; i++)
        {
            rest = rest[(rest.IndexOf('.') + 1)..];
        }

        int dot = rest.IndexOf('.');
        if (dot <= 0 || !ulong.TryParse(rest[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out streamSequence))
        {
            return false;
        }

        rest = rest[(dot + 1)..];
        dot = rest.IndexOf('.');
        return dot > 0 && ulong.TryParse(rest[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out consumerSequence);
    }
}
