using System.Text;

namespace LinqStream.Connectors.Redis;

/// <summary>
/// The entries of one <c>XREAD</c> reply for one stream (<c>[[key, entries]]</c>), indexed in one walk over the reply's bytes: each
/// entry's id, and where the value of the wanted field lies. The source then takes the last id (to send the next <c>XREAD</c>
/// before decoding) and every value from the index, instead of walking the reply's headers again for each.
/// </summary>
/// <remarks>The arrays are kept and grown to the largest reply, so indexing allocates nothing once warm. Not thread-safe.</remarks>
internal sealed class XReadReply
{
    private RedisEntryId[] _ids = new RedisEntryId[64];
    private int[] _entryStart = new int[64];
    private int[] _valueStart = new int[64];
    private int[] _valueLength = new int[64];

    /// <summary>Gets how many entries the reply holds (0 for a null reply).</summary>
    public int Count { get; private set; }

    /// <summary>Gets the id of the reply's last entry; only when <see cref="Count"/> is above 0.</summary>
    public RedisEntryId LastId => _ids[Count - 1];

    /// <summary>Gets the id of entry <paramref name="index"/>.</summary>
    public RedisEntryId Id(int index) => _ids[index];

    /// <summary>
    /// Walks <paramref name="reply"/> (complete, as <see cref="RespScanner"/> found it) once and records every entry's id and where the
    /// first non-null value of <paramref name="field"/> is.
    /// </summary>
    public void Index(ReadOnlySpan<byte> reply, ReadOnlySpan<byte> field)
    {
        Count = 0;
        var cursor = new RespCursor(reply);
        if (cursor.ReadArray() <= 0)
        {
            return;
        }

        cursor.ReadArray();
        cursor.Skip();
        int entries = cursor.ReadArray();
        if (entries <= 0)
        {
            return;
        }

        Ensure(entries);
        for (int i = 0; i < entries; i++)
        {
            _entryStart[i] = cursor.Position;
            cursor.ReadArray();
            _ids[i] = RespStreamReader.ParseId(cursor.ReadBulk(out _));
            int fields = cursor.ReadArray();
            int start = -1;
            int length = -1;
            for (int f = 0; f + 1 < fields; f += 2)
            {
                var name = cursor.ReadBulk(out _);
                int at = cursor.ReadBulkBounds(out int size);
                if (start < 0 && at >= 0 && name.SequenceEqual(field))
                {
                    start = at;
                    length = size;
                }
            }

            if (fields > 0 && (fields & 1) != 0)
            {
                // An odd field count never comes from a server; skip the stray value so the next entry is read from its start.
                cursor.Skip();
            }

            _valueStart[i] = start;
            _valueLength[i] = length;
        }

        Count = entries;
    }

    /// <summary>Gets the value of the field in entry <paramref name="index"/>; false when the entry has no such field (or only a null one).</summary>
    public bool TryGetValue(ReadOnlySpan<byte> reply, int index, out ReadOnlySpan<byte> value)
    {
        int start = _valueStart[index];
        if (start < 0)
        {
            value = default;
            return false;
        }

        value = reply.Slice(start, _valueLength[index]);
        return true;
    }

    /// <summary>The fields of entry <paramref name="index"/> as text, <c>name value name value</c> (a dead letter's record; not a hot path).</summary>
    public string FieldsText(ReadOnlySpan<byte> reply, int index)
    {
        var cursor = new RespCursor(reply[_entryStart[index]..]);
        cursor.ReadArray();
        cursor.Skip();
        int fields = cursor.ReadArray();
        var parts = new List<string>(Math.Max(fields, 0));
        for (int f = 0; f < fields; f++)
        {
            parts.Add(Encoding.UTF8.GetString(cursor.ReadBulk(out _)));
        }

        return string.Join(' ', parts);
    }

    private void Ensure(int entries)
    {
        if (entries <= _ids.Length)
        {
            return;
        }

        int size = Math.Max(entries, _ids.Length * 2);
        _ids = new RedisEntryId[size];
        _entryStart = new int[size];
        _valueStart = new int[size];
        _valueLength = new int[size];
    }
}
