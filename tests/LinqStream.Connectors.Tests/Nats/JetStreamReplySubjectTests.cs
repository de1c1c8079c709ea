using System.Globalization;
using LinqStream.Connectors.Nats;

namespace LinqStream.Connectors.Tests.Nats;

/// <summary>The stream and consumer sequences the JetStream source reads from a message's reply subject (NATS ADR-15 layouts).</summary>
public sealed class JetStreamReplySubjectTests
{
    [Theory]
    [InlineData("$JS.ACK.UnitTest.GetEvents_0.1.100.1.1696023331771188000.0", 100UL, 1UL)]
    [InlineData("$JS.ACK.bench_bids.linqstream-0a1b.3.18446744073709551615.42.1696023331771188000.7", ulong.MaxValue, 42UL)]
    [InlineData("$JS.ACK._.ACCHASH.orders.c1.1.555.9.1696023331771188000.0", 555UL, 9UL)]
    [InlineData("$JS.ACK.hub.ACCHASH.orders.c1.2.556.10.1696023331771188000.3.x7Yz", 556UL, 10UL)]
    public void TryParseSequences_AckSubject_ReadsStreamAndConsumerSequence(string replyTo, ulong stream, ulong consumer)
    {
        Assert.True(JetStreamReplySubject.TryParseSequences(replyTo, out ulong streamSequence, out ulong consumerSequence));

        Assert.Equal(stream, streamSequence);
        Assert.Equal(consumer, consumerSequence);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("_INBOX.abc.def")]
    [InlineData("$JS.ACK.s.c.1.2")]
    [InlineData("$JS.ACK.s.c.1.2.3.4.5.6")]
    [InlineData("$JS.AB.s.c.1.100.1.1696023331771188000.0")]
    [InlineData("$JS.ACK.s.c.1.x.1.1696023331771188000.0")]
    [InlineData("$JS.ACK.s.c.1.100.-1.1696023331771188000.0")]
    [InlineData("$JS.ACK.s.c.1..1.1696023331771188000.0")]
    [InlineData("$JS.ACK.d.h.s.c.1.100.1.1696023331771188000.0.r.extra")]
    [InlineData("$JS.ACK.s.c.1.18446744073709551616.1.1696023331771188000.0")]
    [InlineData("$JS.ACK.s.c.1.100.99999999999999999999.1696023331771188000.0")]
    [InlineData("$JS.ACK.s.c.1.+100.1.1696023331771188000.0")]
    [InlineData("$JS.ACK.s.c.1.100. 1.1696023331771188000.0")]
    public void TryParseSequences_NotAnAckSubject_ReturnsFalse(string? replyTo) =>
        Assert.False(JetStreamReplySubject.TryParseSequences(replyTo, out _, out _));

    [Fact]
    public void TryParseSequences_RandomSubjectsOfBothLayouts_MatchTheirTokens()
    {
        var random = new Random(19);
        for (int i = 0; i < 2_000; i++)
        {
            ulong stream = (ulong)random.NextInt64() * (ulong)random.Next(1, 3);
            ulong consumer = (ulong)random.NextInt64(1, long.MaxValue);
            string name = "s" + random.Next(1_000).ToString(CultureInfo.InvariantCulture);
            string replyTo = random.Next(3) switch
            {
                0 => $"$JS.ACK.{name}.c-{i}.{random.Next(1, 9)}.{stream}.{consumer}.{random.NextInt64()}.{random.Next(100)}",
                1 => $"$JS.ACK._.H{i}.{name}.c-{i}.{random.Next(1, 9)}.{stream}.{consumer}.{random.NextInt64()}.{random.Next(100)}",
                _ => $"$JS.ACK.dom.H{i}.{name}.c-{i}.{random.Next(1, 9)}.{stream}.{consumer}.{random.NextInt64()}.{random.Next(100)}.r{i}",
            };

            Assert.True(JetStreamReplySubject.TryParseSequences(replyTo, out ulong s, out ulong c), replyTo);
            Assert.Equal((stream, consumer), (s, c));
        }
    }

    [Fact]
    public void TryParseAfterConsumer_RandomSubjectsOfTheFirstLayout_SameAsTheWholeSubject()
    {
        var random = new Random(2019);
        for (int i = 0; i < 2_000; i++)
        {
            string prefix = $"$JS.ACK.s{random.Next(1_000)}.linqstream-{Guid.NewGuid():N}.";
            string rest = $"{random.Next(1, 9)}.{(ulong)random.NextInt64() * (ulong)random.Next(1, 3)}.{random.NextInt64(1, long.MaxValue)}.{random.NextInt64()}.{random.Next(100)}";
            var bytes = System.Text.Encoding.ASCII.GetBytes(prefix + rest);

            Assert.True(JetStreamReplySubject.TryParseSequences(bytes, out ulong s, out ulong c));
            Assert.True(JetStreamReplySubject.TryParseAfterConsumer(bytes.AsSpan(prefix.Length), out ulong fastS, out ulong fastC), prefix + rest);
            Assert.Equal((s, c), (fastS, fastC));
        }
    }

    [Theory]
    [InlineData("1.100.1.1696023331771188000.0", true)]
    [InlineData("1.100.1.1696023331771188000", false)]
    [InlineData("1.100.1.1696023331771188000.0.x", false)]
    [InlineData("1.100.1.1696023331771188000.0.", false)]
    [InlineData("1.100..1696023331771188000.0", false)]
    [InlineData("1.18446744073709551616.1.1696023331771188000.0", false)]
    [InlineData("x.100.1.1696023331771188000.0", false)]
    [InlineData("", false)]
    public void TryParseAfterConsumer_OnlyFiveTokensOfDigits(string rest, bool expected) =>
        Assert.Equal(expected, JetStreamReplySubject.TryParseAfterConsumer(System.Text.Encoding.ASCII.GetBytes(rest), out _, out _));
}
