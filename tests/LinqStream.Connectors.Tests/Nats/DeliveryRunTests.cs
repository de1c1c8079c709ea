using System.Globalization;
using System.Text;
using LinqStream.Connectors.Nats;

namespace LinqStream.Connectors.Tests.Nats;

/// <summary>
/// The own reader's check of a run of messages at once (<see cref="DeliveryRun"/>) against a plain reference that reads every
/// message's reply subject by splitting it into its tokens and checks it alone: random runs of both ADR-15 layouts, with and without
/// the consumer's own prefix, huge sequence numbers, jumps in the delivery numbers, subjects that are not acknowledgement subjects,
/// and a bounded replay's end, cut into runs at random places. The position, the delivery number, how many messages are kept and
/// the outcome must be the reference's.
/// </summary>
/// <remarks>
/// The delivery numbers only grow (a consumer without acknowledgements delivers each message once, in order, on one connection):
/// a jump skips numbers forward, as messages lost in a fetch cut short do, and a stray message that is no delivery (no acknowledgement
/// subject, or one that cannot be read) takes no number. That is the premise of checking a run from its last message
/// (<see cref="DeliveryRun"/>'s remarks). A scenario has one kind of fault: a stray message and a lost one in the same run would
/// cancel out in the count (the limit <see cref="DeliveryRun"/> documents).
/// </remarks>
public sealed class DeliveryRunTests
{
    private const string Prefix = "$JS.ACK.bench_bids.linqstream-0123456789abcdef0123456789abcdef.";

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void Check_RandomRunsCutAnywhere_SameAsEveryMessageCheckedAlone(int seed)
    {
        var random = new Random(seed);
        for (int scenario = 0; scenario < 300; scenario++)
        {
            var (replies, startSequence, startDelivered, end) = Scenario(random);
            var (bytes, offsets) = Buffer(random, replies);
            var expected = Reference(replies, startSequence, startDelivered, end);

            var run = new DeliveryRun();
            ulong sequence = startSequence;
            ulong delivered = startDelivered;
            int kept = 0;
            var outcome = FetchOutcome.More;
            for (int at = 0; at < replies.Count && outcome == FetchOutcome.More;)
            {
                int length = random.Next(4) == 0 ? 1 : random.Next(1, replies.Count - at + 1);
                foreach (var (start, size) in offsets.Skip(at).Take(length))
                {
                    run.Add(start, size);
                }

                outcome = run.Check(bytes, Encoding.ASCII.GetBytes(Prefix), end, ref sequence, ref delivered, out int runKept, out ulong pending);
                Assert.InRange(runKept, 0, length);
                Assert.True(outcome != FetchOutcome.More || runKept == length, "a run checked in full keeps all its messages");
                string lastReply = replies[at + length - 1];
                Assert.Equal(
                    outcome == FetchOutcome.More && lastReply.StartsWith(Prefix, StringComparison.Ordinal) ? ulong.Parse(lastReply[(lastReply.LastIndexOf('.') + 1)..], CultureInfo.InvariantCulture) : 0,
                    pending);
                Assert.Equal(0, run.Count);
                kept += runKept;
                at += length;
            }

            Assert.Equal(expected, (kept, outcome, sequence, delivered));
        }
    }

    [Fact]
    public void Check_NothingNoted_KeepsThePlace()
    {
        var run = new DeliveryRun();
        ulong sequence = 7;
        ulong delivered = 3;

        Assert.Equal(FetchOutcome.More, run.Check([], [], null, ref sequence, ref delivered, out int kept, out _));

        Assert.Equal((0, 7UL, 3UL), (kept, sequence, delivered));
    }

    [Fact]
    public void Check_JumpInTheMiddleOfALongRun_KeepsTheMessagesBeforeIt()
    {
        var replies = Enumerable.Range(1, 1000)
            .Select(i => Prefix + $"1.{i + 100}.{(i <= 600 ? i : i + 1)}.1696023331771188000.{1000 - i}")
            .ToList();
        var (bytes, offsets) = Buffer(new Random(1), replies);
        var run = new DeliveryRun();
        foreach (var (start, length) in offsets)
        {
            run.Add(start, length);
        }

        ulong sequence = 100;
        ulong delivered = 0;
        var outcome = run.Check(bytes, Encoding.ASCII.GetBytes(Prefix), null, ref sequence, ref delivered, out int kept, out ulong pending);

        Assert.Equal((FetchOutcome.Broken, 600, 700UL, 600UL, 0UL), (outcome, kept, sequence, delivered, pending));
    }

    /// <summary>Reply subjects of a random run: consecutive delivery numbers with the odd forward jump, stream sequences that grow by 1–3.</summary>
    private static (List<string> Replies, ulong Sequence, ulong Delivered, ulong? End) Scenario(Random random)
    {
        int count = random.Next(1, 700);
        ulong sequence = random.Next(3) switch
        {
            0 => (ulong)random.Next(0, 1000),
            1 => ulong.MaxValue - (ulong)random.Next(3 * count, 4 * count),
            _ => (ulong)random.NextInt64(0, long.MaxValue),
        };
        ulong delivered = random.Next(2) == 0 ? 0 : (ulong)random.NextInt64(0, long.MaxValue);
        ulong startSequence = sequence;
        ulong startDelivered = delivered;
        var replies = new List<string>(count);
        int trouble = random.Next(3); // 0: none; 1: jumps; 2: stray messages that are no delivery of the consumer
        for (int i = 0; i < count; i++)
        {
            if (trouble == 2 && random.Next(200) == 0)
            {
                // Not a delivery: no acknowledgement subject, or one that cannot be read; it takes no delivery number.
                replies.Add(random.Next(3) switch { 0 => "", 1 => "_INBOX.abc.1", _ => Prefix + "1.x.2.3.4" });
                continue;
            }

            sequence += (ulong)random.Next(1, 4);
            delivered += trouble == 1 && random.Next(150) == 0 ? (ulong)random.Next(2, 6) : 1;
            string numbers = string.Create(CultureInfo.InvariantCulture, $"{random.Next(1, 9)}.{sequence}.{delivered}.{random.NextInt64()}.{random.Next(100_000)}");
            replies.Add(random.Next(10) switch
            {
                0 => $"$JS.ACK.other.c-{random.Next(100)}.{numbers}",
                1 => $"$JS.ACK._.H{random.Next(1000)}.bench_bids.c1.{numbers}",
                2 => $"$JS.ACK.hub.H{random.Next(1000)}.bench_bids.c1.{numbers}.r{random.Next(1000)}",
                _ => Prefix + numbers,
            });
        }

        ulong? end = random.Next(3) == 0 ? startSequence + (ulong)random.Next(0, 3 * count) : null;
        return (replies, startSequence, startDelivered, end);
    }

    /// <summary>The replies laid out in one buffer with random bytes between them, as frames in a receive buffer are.</summary>
    private static (byte[] Bytes, List<(int Start, int Length)> Offsets) Buffer(Random random, List<string> replies)
    {
        var bytes = new List<byte>();
        var offsets = new List<(int, int)>();
        foreach (var reply in replies)
        {
            for (int gap = random.Next(0, 40); gap > 0; gap--)
            {
                bytes.Add((byte)random.Next(32, 127));
            }

            offsets.Add((bytes.Count, reply.Length));
            bytes.AddRange(Encoding.ASCII.GetBytes(reply));
        }

        return ([.. bytes], offsets);
    }

    /// <summary>Every message alone: its tokens by splitting on dots, the delivery number must be the next, the sequence within the end.</summary>
    private static (int Kept, FetchOutcome Outcome, ulong Sequence, ulong Delivered) Reference(List<string> replies, ulong sequence, ulong delivered, ulong? end)
    {
        int kept = 0;
        foreach (var reply in replies)
        {
            var tokens = reply.Split('.');
            int at = tokens.Length == 9 ? 5 : tokens.Length is 11 or 12 ? 7 : -1;
            if (!reply.StartsWith("$JS.ACK.", StringComparison.Ordinal) || at < 0
                || !ulong.TryParse(tokens[at], NumberStyles.None, CultureInfo.InvariantCulture, out ulong messageSequence)
                || !ulong.TryParse(tokens[at + 1], NumberStyles.None, CultureInfo.InvariantCulture, out ulong messageDelivered))
            {
                return (kept, FetchOutcome.Broken, sequence, delivered);
            }

            if (messageDelivered != delivered + 1)
            {
                return (kept, FetchOutcome.Broken, sequence, delivered);
            }

            delivered = messageDelivered;
            if (end is { } last && messageSequence > last)
            {
                return (kept, FetchOutcome.PastEnd, sequence, delivered);
            }

            sequence = messageSequence;
            kept++;
        }

        return (kept, FetchOutcome.More, sequence, delivered);
    }
}
