namespace LinqStream.Io.Json;

/// <summary>How the record decoder reads one member's JSON value, and which <see cref="RecordSlots"/> array holds it.</summary>
internal enum RecordMemberKind : byte
{
    /// <summary>A property System.Text.Json does not set (read-only): its value is skipped.</summary>
    Ignored,

    /// <summary><see langword="true"/> or <see langword="false"/>, kept in <see cref="RecordSlots.Longs"/> as 1 or 0.</summary>
    Boolean,

    /// <summary>An integer of 8 to 64 bits (or an enum over one), kept in <see cref="RecordSlots.Longs"/>.</summary>
    SByte,

    /// <summary>See <see cref="SByte"/>.</summary>
    Byte,

    /// <summary>See <see cref="SByte"/>.</summary>
    Int16,

    /// <summary>See <see cref="SByte"/>.</summary>
    UInt16,

    /// <summary>See <see cref="SByte"/>.</summary>
    Int32,

    /// <summary>See <see cref="SByte"/>.</summary>
    UInt32,

    /// <summary>See <see cref="SByte"/>.</summary>
    Int64,

    /// <summary>Kept in <see cref="RecordSlots.Longs"/> as the same 64 bits.</summary>
    UInt64,

    /// <summary>A one-character string, kept in <see cref="RecordSlots.Longs"/>.</summary>
    Char,

    /// <summary>Kept in <see cref="RecordSlots.Doubles"/> (exactly: every float is a double).</summary>
    Single,

    /// <summary>Kept in <see cref="RecordSlots.Doubles"/>.</summary>
    Double,

    /// <summary>Kept in <see cref="RecordSlots.Decimals"/>.</summary>
    Decimal,

    /// <summary>Kept in <see cref="RecordSlots.Objects"/>.</summary>
    String,

    /// <summary>ISO 8601, kept in <see cref="RecordSlots.DateTimes"/>.</summary>
    DateTime,

    /// <summary>ISO 8601, kept in <see cref="RecordSlots.DateTimeOffsets"/>.</summary>
    DateTimeOffset,

    /// <summary>Kept in <see cref="RecordSlots.Guids"/>.</summary>
    Guid,

    /// <summary>A nested record (a class read as a JSON object by a decoder of its own), kept in <see cref="RecordSlots.Objects"/>.</summary>
    Record,
}
