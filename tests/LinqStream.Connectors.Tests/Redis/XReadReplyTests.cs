using System.Globalization;
using System.Text;
using LinqStream.Connectors.Redis;

namespace LinqStream.Connectors.Tests.Redis;

/// <summary>The one-pass index of an XREAD reply: ids, where the wanted field's value is, and the fields of an entry as text.</summary>
public sealed class XReadReplyTests
{
    private static readonly byte[] s_field = "data"u8.ToArray();

    [Theory]
    [InlineData("*-1\r\n")]
    [InlineData("*0\r\n")]
    [InlineData("*1\r\n*2\r\n$4\r\nbids\r\n*0\r\n")]
    public void Index_NullOrEmptyReply_HasNoEntries(string reply)
    {
        var index = new XReadReply();

        index.Index(Encoding.ASCII.GetBytes(reply), s_field);

        Assert.Equal(0, index.Count);
    }

    [Fact]
    public void Index_FieldMissingNullOrSecond_FindsTheFirstNonNullValue()
    {
        var entries = new[]
        {
            new Entry(new RedisEntryId(1, 0), [("data", "{\"a\":1}")]),
            new Entry(new RedisEntryId(1, 1), [("other", "x")]),
            new Entry(new RedisEntryId(1, 2), [("data", null), ("data", "second")]),
            new Entry(new RedisEntryId(2, 0), [("other", "x"), ("data", ""), ("data", "later")]),
            new Entry(new RedisEntryId(ulong.MaxValue, ulong.MaxValue), []),
        };
        var reply = Reply("bids", entries);
        var index = new XReadReply();

        index.Index(reply, s_field);

        Assert.Equal(5, index.Count);
        Assert.Equal(new RedisEntryId(ulong.MaxValue, ulong.MaxValue), index.LastId);
        Assert.Equal(["{\"a\":1}", null, "second", "", null], Values(index, reply));
        Assert.Equal("other x", index.FieldsText(reply, 1));
        Assert.Equal("other x data  data later", index.FieldsText(reply, 3));
        Assert.Equal(string.Empty, index.FieldsText(reply, 4));
    }

    [Fact]
    public void Index_RandomReplies_AgreeWithTheirEntries()
    {
        var random = new Random(1919);
        var index = new XReadReply();
        for (int round = 0; round < 300; round++)
        {
            // Replies of 0 to 300 entries (the index grows, then is reused for smaller replies), ids anywhere in the id space,
            // values with CRLFs, multi-byte text and empty strings, the field anywhere among others, sometimes null or absent.
            int count = random.Next(round % 10 == 0 ? 300 : 20);
            var entries = new Entry[count];
            ulong ms = (ulong)random.NextInt64() >> random.Next(64);
            for (int i = 0; i < count; i++)
            {
                var fields = new List<(string, string?)>();
                int others = random.Next(4);
                int at = random.Next(others + 2); // == others + 1: no data field
                for (int f = 0; f <= others; f++)
                {
                    if (f == at)
                    {
                        fields.Add(("data", random.Next(8) == 0 ? null : RandomText(random)));
                    }

                    if (f < others)
                    {
                        fields.Add(("f" + f.ToString(CultureInfo.InvariantCulture), RandomText(random)));
                    }
                }

                entries[i] = new Entry(new RedisEntryId(ms, (ulong)i * (ulong)random.Next(1, 1000)), fields);
                ms += (ulong)random.Next(2);
            }

            var reply = Reply("stream-" + round.ToString(CultureInfo.InvariantCulture), entries);
            index.Index(reply, s_field);

            Assert.Equal(count, index.Count);
            Assert.Equal(entries.Select(e => e.Id), Enumerable.Range(0, count).Select(index.Id));
            Assert.Equal(entries.Select(e => e.Fields.FirstOrDefault(f => f.Name == "data" && f.Value is not null).Value), Values(index, reply));
            if (count > 0)
            {
                Assert.Equal(entries[^1].Id, index.LastId);
                int pick = random.Next(count);
                Assert.Equal(string.Join(' ', entries[pick].Fields.SelectMany(f => new[] { f.Name, f.Value ?? string.Empty })), index.FieldsText(reply, pick));
            }
        }
    }

    private static List<string?> Values(XReadReply index, byte[] reply)
    {
        var values = new List<string?>();
        for (int i = 0; i < index.Count; i++)
        {
            values.Add(index.TryGetValue(reply, i, out var value) ? Encoding.UTF8.GetString(value) : null);
        }

        return values;
    }

    private static string RandomText(Random random)
    {
        string[] pieces = ["{\"auction\":", "12", "\r\n", "é", "😀", "", "$3\r\n", "*2", " "];
        var text = new StringBuilder();
        for (int i = random.Next(6); i > 0; i--)
        {
            text.Append(pieces[random.Next(pieces.Length)]);
        }

        return text.ToString();
    }

    /// <summary>An XREAD reply for one stream, as RESP2: <c>[[key, [[id, [name, value, ...]], ...]]]</c>; a null value is <c>$-1</c>.</summary>
    private static byte[] Reply(string key, IReadOnlyList<Entry> entries)
    {
        var reply = new StringBuilder();
        reply.Append("*1\r\n*2\r\n");
        Bulk(reply, key);
        reply.Append(CultureInfo.InvariantCulture, $"*{entries.Count}\r\n");
        foreach (var entry in entries)
        {
            reply.Append("*2\r\n");
            Bulk(reply, entry.Id.ToString());
            reply.Append(CultureInfo.InvariantCulture, $"*{entry.Fields.Count * 2}\r\n");
            foreach (var (name, value) in entry.Fields)
            {
                Bulk(reply, name);
                Bulk(reply, value);
            }
        }

        return Encoding.UTF8.GetBytes(reply.ToString());
    }

    private static void Bulk(StringBuilder reply, string? value)
    {
        if (value is null)
        {
            reply.Append("$-1\r\n");
            return;
        }

        reply.Append(CultureInfo.InvariantCulture, $"${Encoding.UTF8.GetByteCount(value)}\r\n{value}\r\n");
    }

    private sealed record Entry(RedisEntryId Id, IReadOnlyList<(string Name, string? Value)> Fields);
}
