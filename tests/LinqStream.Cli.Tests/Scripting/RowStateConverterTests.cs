using System.Text.Json;
using LinqStream.Cli.Scripting;

namespace LinqStream.Cli.Tests.Scripting;

/// <summary>A <see cref="Row"/> survives a checkpoint: every value keeps its kind, and rows of one schema share it again.</summary>
public sealed class RowStateConverterTests
{
    private static readonly RowSchema s_schema = new(
        ["time", "Price", "ratio", "name", "ok", "payload", "missing"],
        [FieldKind.Number, FieldKind.Number, FieldKind.Number, FieldKind.String, FieldKind.Bool, FieldKind.Json, FieldKind.String],
        0);

    public static TheoryData<double> Doubles() => [1.0, -0.0, 1.5, 0.1, double.NaN, double.PositiveInfinity, double.NegativeInfinity, double.MaxValue, double.Epsilon, 1e300];

    [Theory]
    [MemberData(nameof(Doubles))]
    public void RoundTrip_KeepsEveryValueAndItsKind(double ratio)
    {
        var time = new DateTimeOffset(2026, 12, 4, 13, 0, 0, 123, TimeSpan.Zero).AddTicks(4567);
        var row = new Row(s_schema, [1_796_390_400_123L, long.MinValue, ratio, "é \"quoted\"\n", true, "{\"a\":[1,2]}", null], time, 42);

        var back = JsonSerializer.Deserialize<Row>(JsonSerializer.SerializeToUtf8Bytes(row))!;

        Assert.Equal(time, back.Time);
        Assert.Equal(42, back.Line);
        Assert.Equal(s_schema.Names, back.Fields);
        for (int i = 0; i < s_schema.Names.Count; i++)
        {
            object? expected = row.ValueAt(i), actual = back.ValueAt(i);
            Assert.Equal(expected?.GetType(), actual?.GetType());
            Assert.Equal(expected, actual);
        }

        Assert.Equal(BitConverter.DoubleToInt64Bits(ratio), BitConverter.DoubleToInt64Bits((double)back.ValueAt(2)!));
        Assert.Equal(long.MinValue, back.Long("price")); // field names still match case-insensitively
    }

    [Fact]
    public void RowsOfOneSchema_ShareOneSchemaWhenReadBack()
    {
        var rows = Enumerable.Range(0, 3).Select(i => new Row(s_schema, [(long)i, 1L, 2.5, "n", false, "[]", null], DateTimeOffset.UnixEpoch, i + 1));

        var back = rows.Select(r => JsonSerializer.Deserialize<Row>(JsonSerializer.Serialize(r))!).ToArray();

        Assert.Same(back[0].Schema, back[1].Schema);
        Assert.Same(back[0].Schema, back[2].Schema);
        Assert.Equal([1L, 2L, 3L], back.Select(r => r.Line));
    }

    [Theory]
    [InlineData("""{"t":0,"l":1,"n":["a"],"k":[0],"i":0}""", "needs its names, kinds, time index and one value per field")]
    [InlineData("""{"t":0,"l":1,"n":["a","b"],"k":[0,0],"i":0,"v":[1]}""", "one value per field")]
    [InlineData("""{"t":0,"l":1,"n":["a"],"k":[9],"i":0,"v":[1]}""", "field kind 9 is unknown")]
    [InlineData("""{"t":0,"l":1,"n":["a"],"k":[0],"i":3,"v":[1]}""", "time index")]
    [InlineData("""{"t":0,"l":1,"n":"a","k":[0],"i":0,"v":[1]}""", "where StartArray was expected")]
    [InlineData("""{"t":0,"l":1,"n":["a"],"k":[0],"i":0,"v":[{"x":"1"}]}""", "written as {\"d\"")]
    public void DamagedRow_IsAJsonErrorThatSaysWhat(string json, string reason)
    {
        var error = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<Row>(json));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }
}
