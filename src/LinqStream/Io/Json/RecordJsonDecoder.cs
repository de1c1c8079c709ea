using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace LinqStream.Io.Json;

/// <summary>
/// Reads one JSON object into a record's slots with <see cref="Utf8JsonReader"/>: property names are matched on their UTF-8 bytes
/// (the next declared member first, since writers keep the declared order), each value is read by its member's kind into a typed
/// slot, and the record is made by a constructor compiled once per type (<see cref="RecordJsonDecoder{T}"/>).
/// </summary>
/// <remarks>
/// <para>Built from System.Text.Json's own metadata for the type (<see cref="RecordJsonDecoders"/>), so names, naming policy, case
/// sensitivity and constructor parameters are System.Text.Json's. It reads the common encodings only: anything else — malformed JSON,
/// a number written as a string, a duplicate or a <c>$</c> metadata property, a missing required member, <c>null</c> where no
/// <c>null</c> fits — throws, and the serializer then reads the record with System.Text.Json, which gives its answer or its error
/// (<see cref="JsonEventSerializer{T}"/>). The decoder therefore never accepts a record differently from System.Text.Json.</para>
/// <para>Thread-safe: each read takes the spare <see cref="RecordSlots"/> (or makes one, when another thread or a nested record of
/// the same type holds it).</para>
/// </remarks>
internal abstract class RecordJsonDecoder
{
    private RecordJsonMember[] _members = [];
    private ulong _required;
    private bool _caseInsensitive;
    private bool _disallowUnmapped;
    private bool _nullsAsValues = true;
    private RecordSlotCounts _counts;
    private RecordSlots? _spare;

    /// <summary>Gets the members, in System.Text.Json's property order.</summary>
    public IReadOnlyList<RecordJsonMember> Members => _members;

    /// <summary>Reads the object the reader is on (<see cref="JsonTokenType.StartObject"/>) and leaves it on the object's end.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The record, boxed when it is a struct.</returns>
    public abstract object? ReadBoxed(ref Utf8JsonReader reader);

    /// <summary>Sets the members and compiles the constructor (once, after the members' nested decoders exist, so a record may hold its own type).</summary>
    /// <param name="members">The members, in System.Text.Json's property order.</param>
    /// <param name="constructor">The constructor to call, or <see langword="null"/> for a struct's default.</param>
    /// <param name="required">The members the JSON must give, bit <c>i</c> for member <c>i</c>.</param>
    /// <param name="options">The options the metadata belongs to (names' case, comments, trailing commas, depth, nullable annotations).</param>
    /// <param name="disallowUnmapped">Whether a property no member has is an error.</param>
    public abstract void Complete(RecordJsonMember[] members, ConstructorInfo? constructor, ulong required, JsonSerializerOptions options, bool disallowUnmapped);

    /// <summary>Sets what the decoder reads and where each member's slot is.</summary>
    protected void SetMembers(RecordJsonMember[] members, ulong required, bool caseInsensitive, bool disallowUnmapped, bool nullsAsValues)
    {
        _members = members;
        _required = required;
        _caseInsensitive = caseInsensitive;
        _disallowUnmapped = disallowUnmapped;
        _nullsAsValues = nullsAsValues;
        int longs = 0, doubles = 0, decimals = 0, dateTimes = 0, offsets = 0, guids = 0, objects = 0;
        foreach (var member in members)
        {
            member.Slot = member.Kind switch
            {
                RecordMemberKind.Ignored => -1,
                RecordMemberKind.Single or RecordMemberKind.Double => doubles++,
                RecordMemberKind.Decimal => decimals++,
                RecordMemberKind.DateTime => dateTimes++,
                RecordMemberKind.DateTimeOffset => offsets++,
                RecordMemberKind.Guid => guids++,
                RecordMemberKind.String or RecordMemberKind.Record => objects++,
                _ => longs++,
            };
        }

        _counts = new RecordSlotCounts(longs, doubles, decimals, dateTimes, offsets, guids, objects);
    }

    /// <summary>Takes the spare slots, or makes new ones when they are in use.</summary>
    protected RecordSlots RentSlots() => Interlocked.Exchange(ref _spare, null) ?? new RecordSlots(_counts);

    /// <summary>Gives the slots back for the next read.</summary>
    protected void ReturnSlots(RecordSlots slots) => Volatile.Write(ref _spare, slots);

    /// <summary>Reads the members of the object the reader is on into <paramref name="slots"/>; the reader ends on the object's end.</summary>
    protected void Fill(ref Utf8JsonReader reader, RecordSlots slots)
    {
        var members = _members;
        ulong seen = 0;
        ulong nulls = 0;
        int next = 0;
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                if ((seen & _required) != _required)
                {
                    throw NotRead("a required property is missing");
                }

                slots.Seen = seen;
                slots.Nulls = nulls;
                return;
            }

            int index = Find(ref reader, members, next);
            if (index < 0)
            {
                if (_disallowUnmapped || IsMetadataName(ref reader))
                {
                    throw NotRead("an unknown or metadata property");
                }

                reader.Read();
                reader.Skip();
                continue;
            }

            next = index + 1;
            ulong bit = 1UL << index;
            if ((seen & bit) != 0)
            {
                throw NotRead("a property given twice");
            }

            seen |= bit;
            reader.Read();
            var member = members[index];
            if (reader.TokenType == JsonTokenType.Null && member.Kind != RecordMemberKind.Ignored)
            {
                if (!member.AcceptsNull || !_nullsAsValues)
                {
                    throw NotRead("null where the member takes none");
                }

                nulls |= bit;
                if (member.Kind is RecordMemberKind.String or RecordMemberKind.Record)
                {
                    slots.Objects[member.Slot] = null;
                }

                continue;
            }

            ReadValue(ref reader, member, slots);
        }

        throw NotRead("the object does not end");
    }

    private static void ReadValue(ref Utf8JsonReader reader, RecordJsonMember member, RecordSlots slots)
    {
        int slot = member.Slot;
        switch (member.Kind)
        {
            case RecordMemberKind.Ignored:
                reader.Skip();
                break;
            case RecordMemberKind.Boolean:
                slots.Longs[slot] = reader.GetBoolean() ? 1 : 0;
                break;
            case RecordMemberKind.SByte:
                slots.Longs[slot] = reader.GetSByte();
                break;
            case RecordMemberKind.Byte:
                slots.Longs[slot] = reader.GetByte();
                break;
            case RecordMemberKind.Int16:
                slots.Longs[slot] = reader.GetInt16();
                break;
            case RecordMemberKind.UInt16:
                slots.Longs[slot] = reader.GetUInt16();
                break;
            case RecordMemberKind.Int32:
                slots.Longs[slot] = reader.GetInt32();
                break;
            case RecordMemberKind.UInt32:
                slots.Longs[slot] = reader.GetUInt32();
                break;
            case RecordMemberKind.Int64:
                slots.Longs[slot] = reader.GetInt64();
                break;
            case RecordMemberKind.UInt64:
                slots.Longs[slot] = unchecked((long)reader.GetUInt64());
                break;
            case RecordMemberKind.Char:
                slots.Longs[slot] = ReadChar(ref reader);
                break;
            case RecordMemberKind.Single:
                slots.Doubles[slot] = reader.GetSingle();
                break;
            case RecordMemberKind.Double:
                slots.Doubles[slot] = reader.GetDouble();
                break;
            case RecordMemberKind.Decimal:
                slots.Decimals[slot] = reader.GetDecimal();
                break;
            case RecordMemberKind.String:
                slots.Objects[slot] = member.Strings!.Read(ref reader);
                break;
            case RecordMemberKind.DateTime:
                slots.DateTimes[slot] = reader.GetDateTime();
                break;
            case RecordMemberKind.DateTimeOffset:
                slots.DateTimeOffsets[slot] = reader.GetDateTimeOffset();
                break;
            case RecordMemberKind.Guid:
                slots.Guids[slot] = reader.GetGuid();
                break;
            default:
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    throw NotRead("a nested record that is not an object");
                }

                slots.Objects[slot] = member.Nested!.ReadBoxed(ref reader);
                break;
        }
    }

    /// <summary>Finds the member named by the property name the reader is on: the next declared member first, then any, then (when the options say so) ignoring case.</summary>
    private int Find(ref Utf8JsonReader reader, RecordJsonMember[] members, int next)
    {
        if ((uint)next < (uint)members.Length && reader.ValueTextEquals(members[next].Utf8Name))
        {
            return next;
        }

        for (int i = 0; i < members.Length; i++)
        {
            if (i != next && reader.ValueTextEquals(members[i].Utf8Name))
            {
                return i;
            }
        }

        return _caseInsensitive ? FindIgnoringCase(ref reader, members) : -1;
    }

    private static int FindIgnoringCase(ref Utf8JsonReader reader, RecordJsonMember[] members)
    {
        if (!reader.ValueIsEscaped && !reader.HasValueSequence && Ascii.IsValid(reader.ValueSpan))
        {
            var name = reader.ValueSpan;
            for (int i = 0; i < members.Length; i++)
            {
                if (Ascii.EqualsIgnoreCase(name, members[i].Name))
                {
                    return i;
                }
            }

            return -1;
        }

        // Escaped or beyond ASCII: compare as System.Text.Json does, on strings (not a hot path).
        string text = reader.GetString()!;
        for (int i = 0; i < members.Length; i++)
        {
            if (string.Equals(text, members[i].Name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool IsMetadataName(ref Utf8JsonReader reader) =>
        reader.ValueIsEscaped || reader.HasValueSequence ? reader.GetString()!.StartsWith('$') : reader.ValueSpan is [(byte)'$', ..];

    private static char ReadChar(ref Utf8JsonReader reader)
    {
        Span<char> text = stackalloc char[2];
        if (reader.CopyString(text) != 1)
        {
            throw NotRead("a character that is not one character long");
        }

        return text[0];
    }

    /// <summary>The decoder's refusal: the serializer reads the record with System.Text.Json instead (which gives its answer or its error).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private protected static JsonException NotRead(string what) => new($"The record decoder does not read {what}; System.Text.Json reads the record.");
}

/// <summary>The record decoder for <typeparamref name="T"/>: reads the slots, then makes the record with the compiled constructor.</summary>
/// <typeparam name="T">The record type.</typeparam>
internal sealed class RecordJsonDecoder<T> : RecordJsonDecoder
{
    private Func<RecordSlots, T> _make = static _ => throw new InvalidOperationException("The record decoder is not built yet.");
    private JsonReaderOptions _readerOptions;

    /// <inheritdoc/>
    public override void Complete(RecordJsonMember[] members, ConstructorInfo? constructor, ulong required, JsonSerializerOptions options, bool disallowUnmapped)
    {
        // The slots first: the compiled constructor reads each member from its slot.
        SetMembers(members, required, options.PropertyNameCaseInsensitive, disallowUnmapped, !options.RespectNullableAnnotations);
        _make = RecordJsonConstructor.Compile<T>(constructor, members);
        _readerOptions = new JsonReaderOptions
        {
            AllowTrailingCommas = options.AllowTrailingCommas,
            CommentHandling = options.ReadCommentHandling,
            MaxDepth = options.MaxDepth, // 0 is the default (64) for both
        };
    }

    /// <summary>Reads one record that is the whole of <paramref name="data"/>.</summary>
    /// <param name="data">One JSON object.</param>
    /// <returns>The record.</returns>
    /// <exception cref="JsonException">The data is not JSON, or not in a shape this decoder reads (System.Text.Json then reads it).</exception>
    public T Decode(ReadOnlySpan<byte> data)
    {
        var reader = new Utf8JsonReader(data, _readerOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw NotRead("a record that is not a JSON object");
        }

        var value = Read(ref reader);
        if (reader.Read())
        {
            throw NotRead("more than one JSON value");
        }

        return value;
    }

    /// <summary>Reads the object the reader is on and leaves it on the object's end.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The record.</returns>
    public T Read(ref Utf8JsonReader reader)
    {
        var slots = RentSlots();
        Fill(ref reader, slots);
        var value = _make(slots);
        ReturnSlots(slots);
        return value;
    }

    /// <inheritdoc/>
    public override object? ReadBoxed(ref Utf8JsonReader reader) => Read(ref reader);
}
