using System.Text;
using LinqStream.Connectors.Redis;

namespace LinqStream.Connectors.Tests.Redis;

/// <summary>The RESP framing the Redis source reads its XREAD replies with: complete in any split, and read back exactly.</summary>
public sealed class RespReaderTests
{
    private const string Reply =
        "*1\r\n*2\r\n$4\r\nbids\r\n*3\r\n" +
        "*2\r\n$3\r\n1-0\r\n*2\r\n$4\r\ndata\r\n$10\r\n{\"a\":\"\r\n\"}\r\n" +
        "*2\r\n$3\r\n1-1\r\n*4\r\n$5\r\nother\r\n$-1\r\n$4\r\ndata\r\n$0\r\n\r\n" +
        "*2\r\n$22\r\n18446744073709551615-7\r\n*0\r\n";

    [Fact]
    public void TryComplete_ReplyArrivingInTwoPiecesSplitAnywhere_CompletesExactlyAtItsEnd()
    {
        var bytes = Encoding.ASCII.GetBytes(Reply + "+NEXT\r\n");
        int end = Reply.Length;
        for (int cut = 0; cut <= end; cut++)
        {
            var scanner = new RespScanner();
            scanner.Reset();
            bool early = scanner.TryComplete(bytes.AsSpan(0, cut), out _);
            Assert.True(!early || cut == end, $"complete after {cut} of {end} bytes");
            Assert.True(scanner.TryComplete(bytes, out int found), $"cut at {cut}");
            Assert.Equal(end, found);
        }
    }

    [Fact]
    public void TryComplete_ByteByByte_CompletesOnlyAtTheLastByte()
    {
        var bytes = Encoding.ASCII.GetBytes(Reply);
        var scanner = new RespScanner();
        scanner.Reset();
        for (int length = 0; length < bytes.Length; length++)
        {
            Assert.False(scanner.TryComplete(bytes.AsSpan(0, length), out _), $"complete at {length}");
        }

        Assert.True(scanner.TryComplete(bytes, out int end));
        Assert.Equal(bytes.Length, end);
    }

    [Theory]
    [InlineData("*-1\r\n")]
    [InlineData("-ERR wrong number of arguments\r\n")]
    [InlineData("+OK\r\n")]
    [InlineData(":42\r\n")]
    [InlineData("$-1\r\n")]
    [InlineData("*0\r\n")]
    public void TryComplete_ScalarAndNullReplies_CompleteAtTheirEnd(string reply)
    {
        var scanner = new RespScanner();
        scanner.Reset();

        Assert.True(scanner.TryComplete(Encoding.ASCII.GetBytes(reply + "*1\r\n"), out int end));
        Assert.Equal(reply.Length, end);
    }

    [Theory]
    [InlineData("$3\r\nabcXY")]
    [InlineData("?what\r\n")]
    [InlineData("*x\r\n")]
    [InlineData("$-\r\n")]
    [InlineData("$12x\r\n")]
    [InlineData("*1234567890123456789\r\n")]
    public void TryComplete_BrokenFraming_Throws(string reply)
    {
        var scanner = new RespScanner();
        scanner.Reset();

        Assert.Throws<InvalidDataException>(() => scanner.TryComplete(Encoding.ASCII.GetBytes(reply), out _));
    }

    [Fact]
    public void Cursor_ReadsEntriesFieldsAndNullValues()
    {
        var cursor = new RespCursor(Encoding.ASCII.GetBytes(Reply));
        Assert.Equal(1, cursor.ReadArray());
        Assert.Equal(2, cursor.ReadArray());
        Assert.Equal("bids", Text(cursor.ReadBulk(out _)));
        Assert.Equal(3, cursor.ReadArray());

        Assert.Equal(2, cursor.ReadArray());
        Assert.Equal(new RedisEntryId(1, 0), RespStreamReader.ParseId(cursor.ReadBulk(out _)));
        Assert.Equal(2, cursor.ReadArray());
        Assert.Equal("data", Text(cursor.ReadBulk(out _)));
        Assert.Equal("{\"a\":\"\r\n\"}", Text(cursor.ReadBulk(out _)));

        cursor.ReadArray();
        Assert.Equal(new RedisEntryId(1, 1), RespStreamReader.ParseId(cursor.ReadBulk(out _)));
        Assert.Equal(4, cursor.ReadArray());
        cursor.ReadBulk(out _);
        cursor.ReadBulk(out bool isNull);
        Assert.True(isNull);
        cursor.ReadBulk(out _);
        Assert.Equal(string.Empty, Text(cursor.ReadBulk(out isNull)));
        Assert.False(isNull);

        cursor.ReadArray();
        Assert.Equal(new RedisEntryId(ulong.MaxValue, 7), RespStreamReader.ParseId(cursor.ReadBulk(out _)));
        Assert.Equal(0, cursor.ReadArray());
    }

    [Theory]
    [InlineData("0-0", 0UL, 0UL)]
    [InlineData("1796376341355-73", 1796376341355UL, 73UL)]
    [InlineData("18446744073709551615-18446744073709551615", ulong.MaxValue, ulong.MaxValue)]
    public void FormatAndParseId_RoundTrip(string text, ulong ms, ulong sequence)
    {
        var id = new RedisEntryId(ms, sequence);
        Span<byte> buffer = stackalloc byte[41];

        Assert.Equal(text, Encoding.ASCII.GetString(buffer[..RespStreamReader.FormatId(id, buffer)]));
        Assert.Equal(id, RespStreamReader.ParseId(Encoding.ASCII.GetBytes(text)));
    }

    [Theory]
    [InlineData("12")]
    [InlineData("-3")]
    [InlineData("1-")]
    [InlineData("1-2-3")]
    [InlineData("a-1")]
    [InlineData("+1-2")]
    [InlineData("1-+2")]
    [InlineData("1- 2")]
    [InlineData("18446744073709551616-0")]
    [InlineData("0-18446744073709551616")]
    [InlineData("99999999999999999999-1")]
    [InlineData("")]
    public void ParseId_NotAnId_ThrowsFormatException(string text) =>
        Assert.Throws<FormatException>(() => RespStreamReader.ParseId(Encoding.ASCII.GetBytes(text)));

    [Fact]
    public void ParseId_RandomIdsOfEveryLength_MatchUlongParse()
    {
        // The shared ASCII-number reader (AsciiNumber) against ulong.Parse: 1 to 20 digits, leading zeros, the largest values.
        var random = new Random(1019);
        for (int i = 0; i < 5_000; i++)
        {
            string ms = Digits(random), sequence = Digits(random);
            var text = Encoding.ASCII.GetBytes(ms + "-" + sequence);
            bool fits = ulong.TryParse(ms, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ulong m)
                & ulong.TryParse(sequence, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ulong s);
            if (fits)
            {
                Assert.Equal(new RedisEntryId(m, s), RespStreamReader.ParseId(text));
            }
            else
            {
                Assert.Throws<FormatException>(() => RespStreamReader.ParseId(text));
            }
        }

        static string Digits(Random random) => random.Next(4) switch
        {
            0 => ulong.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture)[..^1] + (char)('0' + random.Next(10)),
            1 => new string('0', random.Next(1, 4)) + random.Next(1000).ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => string.Concat(Enumerable.Range(0, random.Next(1, 21)).Select(_ => (char)('0' + random.Next(10)))),
        };
    }

    private static string Text(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);
}
