using System.Buffers.Text;
using System.Text;

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
    private const int MaxLength = 512;

    /// <summary>Reads the sequences; false when <paramref name="replyTo"/> is not a JetStream acknowledgement subject.</summary>
    public static bool TryParseSequences(string? replyTo, out ulong streamSequence, out ulong consumerSequence)
    {
        streamSequence = 0;
        consumerSequence = 0;
        if (replyTo is null || replyTo.Length > MaxLength || !Ascii.IsValid(replyTo))
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[replyTo.Length];
        Ascii.FromUtf16(replyTo, bytes, out _);
        return TryParseSequences(bytes, out streamSequence, out consumerSequence);
    }

    /// <summary>Reads the sequences from the subject's bytes (the source's own reader); false when it is not a JetStream acknowledgement subject.</summary>
    public static bool TryParseSequences(ReadOnlySpan<byte> replyTo, out ulong streamSequence, out ulong consumerSequence)
    {
        streamSequence = 0;
        consumerSequence = 0;
        if (!replyTo.StartsWith("$JS.ACK."u8))
        {
            return false;
        }

        int tokens = replyTo.Count((byte)'.') + 1;
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

        var rest = replyTo;
        for (int i = 0; i < streamToken; i++)
        {
            rest = rest[(rest.IndexOf((byte)'.') + 1)..];
        }

        int dot = rest.IndexOf((byte)'.');
        if (!TryParseToken(rest, dot, out streamSequence))
        {
            return false;
        }

        rest = rest[(dot + 1)..];
        dot = rest.IndexOf((byte)'.');
        return TryParseToken(rest, dot, out consumerSequence);
    }

    /// <summary>A token of decimal digits only (no sign, no spaces), as the server writes sequences.</summary>
    private static bool TryParseToken(ReadOnlySpan<byte> rest, int dot, out ulong value)
    {
        value = 0;
        return dot > 0 && rest[0] is >= (byte)'0' and <= (byte)'9'
            && Utf8Parser.TryParse(rest[..dot], out value, out int used) && used == dot;
    }
}
