namespace LinqStream.Connectors.Nats;

/// <summary>
/// The place of the messages a pull reply delivered: each message's reply subject (<c>$JS.ACK...</c>) carries its stream sequence
/// (the source's position) and the consumer's delivery number (1, 2, 3... for a consumer without acknowledgements). A jump in the
/// delivery numbers means messages sent to this consumer never arrived (<see cref="FetchOutcome.Broken"/>), and a stream sequence past
/// a bounded replay's end ends the replay (<see cref="FetchOutcome.PastEnd"/>).
/// </summary>
/// <remarks>
/// <para>The own reader does not read the numbers of every message: the source notes where each taken message's reply subject lies
/// in the receive buffer (<see cref="Add"/>), and checks the run of messages noted since the last check at once (<see cref="Check"/>),
/// before the receive buffer can change and before a read returns. A consumer without acknowledgements never redelivers, and one
/// connection delivers its messages in order, so the delivery numbers of a run only grow: n messages whose last delivery number is the
/// one before the run plus n are exactly the next n, and the stream sequence of the last is the position after all of them.</para>
/// <para>A message that is no delivery of the consumer (no acknowledgement subject, or one that cannot be read) takes no delivery
/// number, so it breaks the count as a lost message does, and the run is then checked message by message. The one thing the count
/// cannot see is both in one run: a stray message and a lost one cancel out. Strays cannot reach the reader's inbox (a random
/// subject of its own connection) short of another client publishing to it; lost messages alone are always seen.</para>
/// <para>When the last message says otherwise (a jump, a sequence past the end, a subject that is not an acknowledgement subject),
/// the run is checked message by message with <see cref="Accept(ReadOnlySpan{byte}, ReadOnlySpan{byte}, ulong?, ref ulong, ref ulong)"/>,
/// as every message was before, and cut at the first message out of place. The offsets are kept in an array that grows to the
/// longest run (a read's buffer): nothing is allocated per message. Not thread-safe.</para>
/// </remarks>
internal sealed class DeliveryRun
{
    private (int Start, int Length)[] _replies = new (int Start, int Length)[256];

    /// <summary>Gets how many messages were noted since the last check.</summary>
    public int Count { get; private set; }

    /// <summary>Notes a taken message by where its reply subject lies in the receive buffer.</summary>
    public void Add(int replyStart, int replyLength)
    {
        if (Count == _replies.Length)
        {
            Array.Resize(ref _replies, _replies.Length * 2);
        }

        _replies[Count++] = (replyStart, replyLength);
    }

    /// <summary>Forgets the noted messages without checking them.</summary>
    public void Clear() => Count = 0;

    /// <summary>Checks the noted messages against the place before them, moves the place to the last one in place, and empties the run.</summary>
    /// <param name="bytes">The receive buffer that the noted offsets index (unchanged since they were noted).</param>
    /// <param name="ackPrefix">The consumer's own <c>$JS.ACK.stream.consumer.</c> prefix, or empty.</param>
    /// <param name="end">The last stream sequence of a bounded replay, or <see langword="null"/>.</param>
    /// <param name="sequence">The stream sequence of the last message in place (the position).</param>
    /// <param name="delivered">The delivery number of the last message delivered.</param>
    /// <param name="kept">How many of the noted messages are in place: all of them, or those before the first that is not.</param>
    /// <param name="pending">
    /// When every noted message is in place and the last one's subject starts with <paramref name="ackPrefix"/>: how many messages for
    /// the consumer the stream held after it when the server sent it (the subject's last number); otherwise 0.
    /// </param>
    /// <returns><see cref="FetchOutcome.More"/> when every noted message is in place; otherwise the first misplaced message's outcome.</returns>
    public FetchOutcome Check(ReadOnlySpan<byte> bytes, ReadOnlySpan<byte> ackPrefix, ulong? end, ref ulong sequence, ref ulong delivered, out int kept, out ulong pending)
    {
        int count = Count;
        Count = 0;
        kept = count;
        pending = 0;
        if (count == 0)
        {
            return FetchOutcome.More;
        }

        var (start, length) = _replies[count - 1];
        var lastReply = bytes.Slice(start, length);
        if (ackPrefix.Length > 0 && lastReply.StartsWith(ackPrefix)
            && JetStreamReplySubject.TryParseAfterConsumer(lastReply[ackPrefix.Length..], out ulong ownSequence, out ulong ownDelivered, out ulong ownPending)
            && ownDelivered > delivered && ownDelivered - delivered == (ulong)count
            && !(end is { } own && ownSequence > own))
        {
            sequence = ownSequence;
            delivered = ownDelivered;
            pending = ownPending;
            return FetchOutcome.More;
        }

        if (TryRead(lastReply, ackPrefix, out ulong lastSequence, out ulong lastDelivered)
            && lastDelivered > delivered && lastDelivered - delivered == (ulong)count
            && !(end is { } last && lastSequence > last))
        {
            sequence = lastSequence;
            delivered = lastDelivered;
            return FetchOutcome.More;
        }

        for (int i = 0; i < count; i++)
        {
            (start, length) = _replies[i];
            var outcome = Accept(bytes.Slice(start, length), ackPrefix, end, ref sequence, ref delivered);
            if (outcome != FetchOutcome.More)
            {
                kept = i;
                return outcome;
            }
        }

        return FetchOutcome.More;
    }

    /// <summary>Checks one message's place from its reply subject, and moves the place to it when it is in place.</summary>
    /// <returns><see cref="FetchOutcome.More"/> (in place), <see cref="FetchOutcome.Broken"/> or <see cref="FetchOutcome.PastEnd"/>.</returns>
    public static FetchOutcome Accept(ReadOnlySpan<byte> replyTo, ReadOnlySpan<byte> ackPrefix, ulong? end, ref ulong sequence, ref ulong delivered) =>
        TryRead(replyTo, ackPrefix, out ulong messageSequence, out ulong messageDelivered)
            ? Accept(messageSequence, messageDelivered, end, ref sequence, ref delivered)
            : FetchOutcome.Broken;

    /// <summary>
    /// Checks one message's place: the consumer numbers what it delivers 1, 2, 3..., so anything but the next number is a jump
    /// (<see cref="FetchOutcome.Broken"/>); a message past <paramref name="end"/> is <see cref="FetchOutcome.PastEnd"/> (its delivery
    /// number counts, the position stays); otherwise the position moves to it.
    /// </summary>
    public static FetchOutcome Accept(ulong messageSequence, ulong messageDelivered, ulong? end, ref ulong sequence, ref ulong delivered)
    {
        if (messageDelivered != delivered + 1)
        {
            return FetchOutcome.Broken;
        }

        delivered = messageDelivered;
        if (end is { } last && messageSequence > last)
        {
            return FetchOutcome.PastEnd;
        }

        sequence = messageSequence;
        return FetchOutcome.More;
    }

    /// <summary>Reads the sequences of a reply subject: straight after the consumer's own prefix when it starts with it, else either ADR-15 layout.</summary>
    private static bool TryRead(ReadOnlySpan<byte> replyTo, ReadOnlySpan<byte> ackPrefix, out ulong sequence, out ulong delivered) =>
        (ackPrefix.Length > 0 && replyTo.StartsWith(ackPrefix) && JetStreamReplySubject.TryParseAfterConsumer(replyTo[ackPrefix.Length..], out sequence, out delivered))
        || JetStreamReplySubject.TryParseSequences(replyTo, out sequence, out delivered);
}
