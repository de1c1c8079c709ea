using System.Globalization;
using System.Text;
using LinqStream.Connectors.Nats;

namespace LinqStream.Connectors.Tests.Nats;

/// <summary>
/// Issue #19 (conn12): the own NATS reader's fast path for the common message line (<c>MSG subject sid reply size</c>, single
/// spaces) against its general parser, on random and mangled lines: whenever the fast path takes a message, the general parser
/// takes the same message (subject, reply, payload, length); whatever the fast path leaves (HMSG, no reply, several spaces, tabs,
/// a size that is no number or too large, a line or payload not all received, no CRLF after the payload) it leaves whole, and the
/// general parser reads, waits for or fails it as before.
/// </summary>
public sealed class NatsMessageLineTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void TryFrameFast_RandomAndMangledLines_AgreesWithTheGeneralParser(int seed)
    {
        var random = new Random(seed);
        int fast = 0, general = 0, failed = 0, waiting = 0;
        for (int i = 0; i < 20_000; i++)
        {
            byte[] data = Frame(random);
            // Cut anywhere (a receive that ended mid-message), or whole with the next frame's start after it.
            if (random.Next(4) == 0)
            {
                data = data[..random.Next(0, data.Length + 1)];
            }
            else if (random.Next(2) == 0)
            {
                data = [.. data, .. Encoding.ASCII.GetBytes("MSG next 1 r 3\r\nabc\r\n")[..random.Next(1, 22)]];
            }

            int offset = random.Next(0, 5000);
            var (expected, expectedUsed, error) = General(data, offset);
            bool taken = NatsPullReader.TryFrameFast(data, offset, out var message, out int used);
            if (taken)
            {
                fast++;
                Assert.True(error is null, $"the fast path took what the general parser fails ({error}): {Show(data)}");
                Assert.True(expected is not null, $"the fast path took what the general parser waits for: {Show(data)}");
                Assert.Equal(expected, message);
                Assert.Equal(expectedUsed, used);
                Assert.False(message.IsStatus);
            }
            else
            {
                Assert.Equal(default, message);
                Assert.Equal(0, used);
                if (error is not null)
                {
                    failed++;
                }
                else if (expected is null)
                {
                    waiting++;
                }
                else
                {
                    general++;
                }

                // What the fast path leaves is never the canonical whole line: it would have taken it.
                if (expected is { } m && error is null)
                {
                    bool canonical = data.AsSpan().StartsWith("MSG "u8) && m.ReplyLength > 0 && IsCanonical(data, expectedUsed);
                    Assert.False(canonical, $"the fast path left a canonical message: {Show(data)}");
                }
            }
        }

        // Every kind came up.
        Assert.True(fast > 1_000 && general > 500 && failed > 500 && waiting > 500, $"fast {fast}, general {general}, failed {failed}, waiting {waiting}");
    }

    [Theory]
    [InlineData("MSG bids 1 $JS.ACK.s.c.1.5.5.1696023331771188000.0 2\r\n{}\r\n", true)]
    [InlineData("MSG a.b.c 17 _INBOX.x.1 0\r\n\r\n", true)]
    [InlineData("MSG bids 1 r 2147483647\r\n", false)] // the payload is not there yet
    [InlineData("MSG bids 1 r 2147483648\r\n{}\r\n", false)] // larger than an int: the general parser fails it
    [InlineData("MSG bids  1 r 2\r\n{}\r\n", false)]
    [InlineData("MSG bids 1 r  2\r\n{}\r\n", false)]
    [InlineData("MSG bids 1 2\r\n{}\r\n", false)] // no reply subject
    [InlineData("MSG bids\t1 r 2\r\n{}\r\n", false)]
    [InlineData("MSG bids 1 r 2 \r\n{}\r\n", false)]
    [InlineData("MSG bids 1 r\r 2\r\n{}\r\n", false)]
    [InlineData("MSG bids 1 r 2\r\n{}XX", false)]
    [InlineData("MSG bids 1 r 2\r{}\r\n", false)]
    [InlineData("HMSG bids 1 r 12 14\r\nNATS/1.0\r\n\r\n{}\r\n", false)]
    [InlineData("MSG bids 1 r -2\r\n{}\r\n", false)]
    [InlineData("MSG ", false)]
    [InlineData("", false)]
    public void TryFrameFast_Examples_TakesOnlyTheWholeCanonicalLine(string text, bool taken)
    {
        var data = Encoding.ASCII.GetBytes(text);

        Assert.Equal(taken, NatsPullReader.TryFrameFast(data, 0, out var message, out int used));
        if (taken)
        {
            var (expected, expectedUsed, error) = General(data, 0);
            Assert.Null(error);
            Assert.Equal(expected, message);
            Assert.Equal(expectedUsed, used);
        }
    }

    /// <summary>The general parser's answer: the message and its length, null while more bytes are needed, or the error it throws.</summary>
    private static (NatsPullMessage? Message, int Used, string? Error) General(byte[] data, int offset)
    {
        int newline = data.AsSpan().IndexOf("\r\n"u8);
        if (newline < 0 || !(data.AsSpan().StartsWith("MSG "u8) || data.AsSpan().StartsWith("HMSG "u8)))
        {
            return (null, 0, null);
        }

        try
        {
            return NatsPullReader.TryFrame(data, newline, offset, out var message, out int used) ? (message, used, null) : (null, 0, null);
        }
        catch (IOException ex)
        {
            return (null, 0, ex.Message);
        }
    }

    /// <summary>Whether a message the general parser read spells <c>MSG subject sid reply size\r\n</c> with single spaces and no CR in a field.</summary>
    private static bool IsCanonical(byte[] data, int used)
    {
        var line = Encoding.Latin1.GetString(data, 0, data.AsSpan().IndexOf("\r\n"u8));
        var fields = line.Split(' ');
        return used <= data.Length
            && fields.Length == 5
            && fields.All(f => f.Length > 0 && !f.Contains('\r', StringComparison.Ordinal))
            && fields[4].All(char.IsAsciiDigit);
    }

    /// <summary>
    /// One frame: mostly the line the server sends for a stored message, otherwise mangled — another verb, no reply, several spaces,
    /// tabs, a CR inside a field, a size that is no number, negative, too large or wrong for the payload, headers — with a payload
    /// that has the right length or not, and CRLF after it or not.
    /// </summary>
    private static byte[] Frame(Random random)
    {
        string subject = random.Next(4) switch
        {
            0 => "bids",
            1 => "orders.eu.west." + random.Next(1000).ToString(CultureInfo.InvariantCulture),
            2 => "x",
            _ => new string('s', random.Next(1, 300)),
        };
        string sid = random.Next(1, 200).ToString(CultureInfo.InvariantCulture);
        string reply = random.Next(3) == 0
            ? "_INBOX.abc." + random.Next(100).ToString(CultureInfo.InvariantCulture)
            : string.Create(CultureInfo.InvariantCulture, $"$JS.ACK.s.c.1.{random.NextInt64(1, long.MaxValue)}.{random.NextInt64(1, long.MaxValue)}.1696023331771188000.{random.Next(10_000)}");
        int length = random.Next(10) switch { 0 => 0, 1 => random.Next(1_000, 5_000), _ => random.Next(1, 300) };
        var payload = new byte[length];
        random.NextBytes(payload);
        string size = length.ToString(CultureInfo.InvariantCulture);
        bool headers = false;
        var fields = new List<string> { subject, sid, reply, size };
        switch (random.Next(16))
        {
            case 0: fields.RemoveAt(2); break; // no reply subject
            case 1: fields[random.Next(fields.Count)] += " "; break; // two spaces somewhere, or one at the end
            case 2: fields.Insert(random.Next(fields.Count + 1), ""); break; // an empty field: two spaces, or one at either end
            case 3: fields[random.Next(3)] += "\tz"; break;
            case 4: fields[random.Next(3)] = fields[random.Next(3)][..1] + "\r" + "q"; break;
            case 5: fields[3] = random.Next(3) switch { 0 => "x", 1 => "-" + size, _ => "9999999999" }; break;
            case 6: fields[3] = (length + random.Next(-3, 4)).ToString(CultureInfo.InvariantCulture); break;
            case 7: fields.Add("extra"); break;
            case 8: fields = [subject]; break;
            case 9: headers = true; break;
            case 10: fields[3] = "0" + size; break; // a leading zero: still the number
        }

        var bytes = new List<byte>();
        if (headers)
        {
            const string Header = "NATS/1.0\r\n\r\n";
            fields.Insert(3, Header.Length.ToString(CultureInfo.InvariantCulture));
            fields[4] = (Header.Length + length).ToString(CultureInfo.InvariantCulture);
            bytes.AddRange(Encoding.Latin1.GetBytes("HMSG " + string.Join(' ', fields) + "\r\n" + Header));
        }
        else
        {
            bytes.AddRange(Encoding.Latin1.GetBytes((random.Next(40) == 0 ? "MSGX " : "MSG ") + string.Join(' ', fields) + "\r\n"));
        }

        bytes.AddRange(payload);
        bytes.AddRange(random.Next(12) switch { 0 => "XX"u8.ToArray(), 1 => "\r"u8.ToArray(), 2 => [], _ => "\r\n"u8.ToArray() });
        return [.. bytes];
    }

    private static string Show(byte[] data) => Encoding.Latin1.GetString(data[..Math.Min(data.Length, 200)]).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
