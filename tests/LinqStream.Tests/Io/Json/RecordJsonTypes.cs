using System.Text.Json.Serialization;

namespace LinqStream.Tests.Io.Json;

#pragma warning disable CA1028 // The enum's underlying type is the test's point: a short enum is read through its 16-bit kind.
public enum Shade : short
{
    Dark = -3,
    Plain = 1,
    Bright = 700,
}
#pragma warning restore CA1028

public sealed record Inner(int Id, string? Label);

/// <summary>A positional record: read through its constructor.</summary>
public sealed record Positional(
    long Long, int Int, short Short, sbyte SByte, byte Byte, ushort UShort, uint UInt, ulong ULong, bool Flag, char Char,
    float Single, double Double, decimal Decimal, string? Text, DateTime Time, DateTimeOffset Offset, Guid Id, Shade Shade,
    int? MaybeInt, DateTime? MaybeTime, Inner? Nested);

/// <summary>A record with <c>init</c>-only properties and initializers: read through its setters; a missing property keeps its initializer.</summary>
public sealed record InitOnly
{
    public long Long { get; init; } = 7;

    public string Text { get; init; } = "initial";

    public string? Other { get; init; }

    public double Double { get; init; }

    public decimal Decimal { get; init; } = 1.5m;

    public DateTime Time { get; init; }

    public Shade Shade { get; init; } = Shade.Plain;

    public long? MaybeLong { get; init; }

    public Inner? Nested { get; init; }

    public uint UInt { get; init; }

    public bool Flag { get; init; } = true;
}

/// <summary>A record holding its own type.</summary>
public sealed record Chain(int Value, Chain? Next);

/// <summary>A mix: constructor parameters, a settable property and a read-only one (System.Text.Json skips its value).</summary>
public sealed class Mixed(long key, string? name)
{
    public long Key { get; } = key;

    public string? Name { get; } = name;

    public int Count { get; set; } = 3;

    public int Computed => (int)Key * 2;
}

/// <summary>A type the record decoder does not read (a list): System.Text.Json reads it, and the serializer says why.</summary>
public sealed record WithList(long Id, List<string> Tags);

/// <summary>A required member (the C# keyword): a record without it is System.Text.Json's error.</summary>
public sealed record WithRequired
{
    public required long Id { get; init; }

    public string Note { get; init; } = "";
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(Positional))]
[JsonSerializable(typeof(InitOnly))]
[JsonSerializable(typeof(Chain))]
[JsonSerializable(typeof(Mixed))]
[JsonSerializable(typeof(WithList))]
[JsonSerializable(typeof(WithRequired))]
public sealed partial class RecordJsonTestContext : JsonSerializerContext;

/// <summary>Case-sensitive names, as System.Text.Json's defaults.</summary>
[JsonSerializable(typeof(Positional))]
[JsonSerializable(typeof(InitOnly))]
public sealed partial class CaseSensitiveRecordJsonTestContext : JsonSerializerContext;
