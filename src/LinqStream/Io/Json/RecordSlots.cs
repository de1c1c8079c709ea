namespace LinqStream.Io.Json;

/// <summary>
/// The values of one JSON object while it is read, by kind, before the record is made from them: one array per kind, so reading a
/// value is a store into an array (no boxing), and the compiled constructor reads them back typed.
/// </summary>
/// <remarks>
/// A slot keeps the previous record's value until it is overwritten; <see cref="Seen"/> says which members this record gave, and only
/// those are read. A decoder keeps one spare instance, so decoding allocates none once warm.
/// </remarks>
internal sealed class RecordSlots
{
    public RecordSlots(RecordSlotCounts counts)
    {
        Longs = new long[counts.Longs];
        Doubles = new double[counts.Doubles];
        Decimals = new decimal[counts.Decimals];
        DateTimes = new DateTime[counts.DateTimes];
        DateTimeOffsets = new DateTimeOffset[counts.DateTimeOffsets];
        Guids = new Guid[counts.Guids];
        Objects = new object?[counts.Objects];
    }

    /// <summary>Gets booleans, integers, characters and enums.</summary>
    public long[] Longs { get; }

    /// <summary>Gets <see cref="float"/> and <see cref="double"/> values.</summary>
    public double[] Doubles { get; }

    /// <summary>Gets <see cref="decimal"/> values.</summary>
    public decimal[] Decimals { get; }

    /// <summary>Gets <see cref="DateTime"/> values.</summary>
    public DateTime[] DateTimes { get; }

    /// <summary>Gets <see cref="DateTimeOffset"/> values.</summary>
    public DateTimeOffset[] DateTimeOffsets { get; }

    /// <summary>Gets <see cref="Guid"/> values.</summary>
    public Guid[] Guids { get; }

    /// <summary>Gets strings and nested records (<see langword="null"/> for a JSON <c>null</c>).</summary>
    public object?[] Objects { get; }

    /// <summary>Gets or sets the members the object gave, bit <c>i</c> for member <c>i</c>.</summary>
    public ulong Seen { get; set; }

    /// <summary>Gets or sets the members the object gave as JSON <c>null</c>.</summary>
    public ulong Nulls { get; set; }
}

/// <summary>How many slots of each kind a record needs.</summary>
internal readonly record struct RecordSlotCounts(int Longs, int Doubles, int Decimals, int DateTimes, int DateTimeOffsets, int Guids, int Objects);
