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

    /// <summary>
    /// Reads the sequences from what follows a known <c>$JS.ACK.stream.consumer.</c> prefix (the first layout, which a source's
    /// own consumer gets from a server without a JetStream domain): <c>delivered.sseq.cseq.ts.pending</c>, five tokens of digits.
    /// No token count and no search for dots: the numbers are read one after the other.
    /// </summary>
    public static bool TryParseAfterConsumer(ReadOnlySpan<byte> rest, out ulong streamSequence, out ulong consumerSequence) =>
        TryParseAfterConsumer(rest, out streamSequence, out consumerSequence, out _);

    /// <summary>
    /// Reads the sequences and the pending count (how many messages of the consumer's subjects the stream held after this one when it
    /// was sent) from what follows a known <c>$JS.ACK.stream.consumer.</c> prefix, as <see cref="TryParseAfterConsumer(ReadOnlySpan{byte}, out ulong, out ulong)"/>.
    /// </summary>
    public static bool TryParseAfterConsumer(ReadOnlySpan<byte> rest, out ulong streamSequence, out ulong consumerSequence, out ulong pending)
    {
        streamSequence = 0;
        consumerSequence = 0;
        pending = 0;
        return SkipNumber(ref rest, out _, dotAfter: true)
            && SkipNumber(ref rest, out streamSequence, dotAfter: true)
            && SkipNumber(ref rest, out consumerSequence, dotAfter: true)
            && SkipNumber(ref rest, out _, dotAfter: true)
            && SkipNumber(ref rest, out pending, dotAfter: false);
    }

    /// <summary>Reads a token of digits and the dot after it (or the end of the subject, for the last token).</summary>
    private static bool SkipNumber(ref ReadOnlySpan<byte> rest, out ulong value, bool dotAfter)
    {
        int digits = AsciiNumber.ReadDigits(rest, out value);
        if (digits <= 0)
        {
            return false;
        }

        if (!dotAfter)
        {
            return digits == rest.Length;
        }

        if (digits >= rest.Length || rest[digits] != (byte)'.')
        {
            return false;
        }

        rest = rest[(digits + 1)..];
        return true;
    }

    /// <summary>A token of decimal digits only (no sign, no spaces), as the server writes sequences.</summary>
    private static bool TryParseToken(ReadOnlySpan<byte> rest, int dot, out ulong value)
    {
        value = 0;
        return dot > 0 && AsciiNumber.TryParse(rest[..dot], out value);
    }
}
