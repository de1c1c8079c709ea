using System.Collections;
using System.Text.Json;
using LinqStream.Physical.Lifetime;
using LinqStream.Physical.Union;
using LinqStream.Runtime.Checkpoints;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Tests.Runtime.Checkpoints;

/// <summary>
/// The checkpoint state codec: every kind of value it writes comes back equal (edge values included, compared bit for bit
/// where equality would hide a difference), the whole encoding is consumed, and damaged input is refused with an exception
/// instead of turning into a wrong value.
/// </summary>
public sealed class StateCodecTests
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        IncludeFields = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public enum Small : sbyte
    {
        Low = sbyte.MinValue,
        High = sbyte.MaxValue,
    }

    public enum Wide : long
    {
        Low = long.MinValue,
        High = long.MaxValue,
    }

    public sealed record UserPayload(string Name, long Value, double? Score, List<int> Tags);

    public sealed class UserClass
    {
        public string? Text { get; set; }

        public int[] Numbers { get; set; } = [];
    }

    public static TheoryData<Type, object?> Values()
    {
        var data = new TheoryData<Type, object?>();
        void Add<T>(params T[] values)
        {
            foreach (var value in values)
            {
                data.Add(typeof(T), value);
            }
        }

        Add(true, false);
        Add(byte.MinValue, byte.MaxValue);
        Add(sbyte.MinValue, sbyte.MaxValue, (sbyte)-1);
        Add(short.MinValue, short.MaxValue);
        Add(ushort.MinValue, ushort.MaxValue);
        Add('\0', 'a', '\uFFFF', '\uD800', '\uDFFF'); // lone surrogates are chars, not text
        Add(int.MinValue, int.MaxValue, 0, -1);
        Add(uint.MinValue, uint.MaxValue);
        Add(long.MinValue, long.MaxValue, 0L, -1L);
        Add(ulong.MinValue, ulong.MaxValue);
        Add(float.MinValue, float.MaxValue, float.Epsilon, float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f);
        Add(double.MinValue, double.MaxValue, double.Epsilon, double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0d, BitConverter.Int64BitsToDouble(unchecked((long)0xFFF8_0000_0000_0001)));
        Add(decimal.MinValue, decimal.MaxValue, 0.0000000000000000000000000001m, -0.000m, 1.10m);
        Add(DateTime.MinValue, DateTime.MaxValue, new DateTime(2024, 2, 29, 23, 59, 59, DateTimeKind.Utc), new DateTime(2024, 2, 29, 1, 2, 3, DateTimeKind.Unspecified));
        Add(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.FromHours(14)), new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.FromHours(-14)), new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.FromMinutes(345)));
        Add(TimeSpan.MinValue, TimeSpan.MaxValue, TimeSpan.Zero);
        Add(Int128.MinValue, Int128.MaxValue, Int128.NegativeOne, (Int128)ulong.MaxValue + 1);
        Add(Guid.Empty, new Guid("0123456789abcdef0123456789abcdef"), new Guid("ffffffff-ffff-ffff-ffff-ffffffffffff"));
        Add<string?>(null, "", "é日本\U0001F600", new string('x', 100_000), "\0 nul inside");
        Add<int?>(null, int.MinValue);
        Add<Wide?>(null, Wide.Low);
        Add(Small.Low, Small.High, (Small)0);
        Add(Wide.Low, Wide.High);
        Add<long[]?>(null, [], [long.MinValue, 0, long.MaxValue]);
        Add<string?[]>([null, "", "a"]);
        Add<int[][]>([[], [1], [int.MinValue, int.MaxValue]]);
        Add<List<long>?>(null, [], [1, 2, 3]);
        Add<IReadOnlyList<string?>>(["a", null]);
        Add((long.MinValue, "b", (double?)null));
        Add((1, 2, 3, 4, 5, 6, 7, 8, 9)); // nine elements: a ValueTuple with a Rest
        Add<UserPayload?>(null, new UserPayload("n\"q", long.MaxValue, double.MaxValue, [1, -1]), new UserPayload("", 0, null, []));
        Add(new Bid { Auction = 1, Bidder = long.MaxValue, Price = long.MinValue, Channel = "c", Url = "u", DateTime = DateTime.MaxValue, Extra = "" });
        Add(new ClipLifetimeState<string, long?>(long.MinValue, long.MaxValue, [new(1, 2, null, "p", true), new(3, 4, 5, null!, false)]));
        Add(new UnionState<(int, string)>(7, [new UnionInputState<(int, string)>(1, 2, true, [new StreamEvent<(int, string)>(1, 2, (3, "x"))]), new UnionInputState<(int, string)>(0, 0, false, [])]));
        return data;
    }

    [Theory]
    [MemberData(nameof(Values))]
    public void Value_WrittenThenRead_IsTheSameAndUsesEveryByte(Type type, object? value)
    {
        byte[] bytes = Encode(value, type);

        using var reader = new BinaryReader(new MemoryStream(bytes));
        object? read = StateCodec.Read(reader, type);

        Assert.Equal(bytes.Length, reader.BaseStream.Position);
        AssertSame(value, read);
    }

    [Fact]
    public void UserClassAndAnonymousType_RoundTripThroughJson()
    {
        var user = new UserClass { Text = "t", Numbers = [1, 2] };
        var anonymous = new { Key = 3L, Name = "n", Nested = new { Deep = (int?)null } };

        var readUser = (UserClass)RoundTrip(user, typeof(UserClass))!;
        object readAnonymous = RoundTrip(anonymous, anonymous.GetType())!;

        Assert.Equal(user.Text, readUser.Text);
        Assert.Equal(user.Numbers, readUser.Numbers);
        Assert.Equal(anonymous, readAnonymous);
    }

    [Fact]
    public void Values_OneAfterAnother_AreReadBackInOrder()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            StateCodec.Write(writer, "first", typeof(string));
            StateCodec.Write(writer, new UserPayload("p", 1, 2.5, [3]), typeof(UserPayload));
            StateCodec.Write(writer, long.MaxValue, typeof(long));
        }

        stream.Position = 0;
        using var reader = new BinaryReader(stream);
        Assert.Equal("first", StateCodec.Read(reader, typeof(string)));
        Assert.Equal(new UserPayload("p", 1, 2.5, [3]).ToString(), StateCodec.Read(reader, typeof(UserPayload))!.ToString());
        Assert.Equal(long.MaxValue, StateCodec.Read(reader, typeof(long)));
        Assert.Equal(stream.Length, stream.Position);
    }

    [Fact]
    public void ObjectTypedState_IsRefused_SayingWhatToDo()
    {
        var error = Assert.Throws<NotSupportedException>(() => Encode(1, typeof(object)));

        Assert.Contains("'object'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TruncatedInput_AtEveryLength_IsRefused()
    {
        var type = typeof(UnionState<UserPayload?>);
        var state = new UnionState<UserPayload?>(5, [
            new UnionInputState<UserPayload?>(1, 2, false, [new StreamEvent<UserPayload?>(1, 2, new UserPayload("abc", 4, null, [1, 2])), new StreamEvent<UserPayload?>(3, 4, null)]),
        ]);
        byte[] bytes = Encode(state, type);

        for (int length = 0; length < bytes.Length; length++)
        {
            using var reader = new BinaryReader(new MemoryStream(bytes, 0, length));
            var error = Record.Exception(() => StateCodec.Read(reader, type));
            Assert.True(error is EndOfStreamException or InvalidDataException or JsonException, $"a cut at byte {length} of {bytes.Length} gave {error?.GetType().Name ?? "a value"}");
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    [InlineData(int.MaxValue)]
    [InlineData(1_000)]
    public void ImpossibleLength_IsRefusedBeforeAllocating(int length)
    {
        foreach (var type in new[] { typeof(long[]), typeof(List<string>), typeof(UserPayload) })
        {
            using var stream = new MemoryStream();
            using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(true); // present (not null)
                writer.Write(length);
                writer.Write(new byte[16]);
            }

            stream.Position = 0;
            using var reader = new BinaryReader(stream);
            var error = Assert.Throws<InvalidDataException>(() => StateCodec.Read(reader, type));
            Assert.Contains(length.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void DamagedJson_IsRefused()
    {
        byte[] bytes = Encode(new UserPayload("abc", 1, null, []), typeof(UserPayload));
        int brace = Array.IndexOf(bytes, (byte)'{');
        bytes[brace] = (byte)'[';

        using var reader = new BinaryReader(new MemoryStream(bytes));
        Assert.Throws<JsonException>(() => StateCodec.Read(reader, typeof(UserPayload)));
    }

    private static byte[] Encode(object? value, Type type)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            StateCodec.Write(writer, value, type);
        }

        return stream.ToArray();
    }

    private static object? RoundTrip(object? value, Type type)
    {
        byte[] bytes = Encode(value, type);
        using var reader = new BinaryReader(new MemoryStream(bytes));
        return StateCodec.Read(reader, type);
    }

    /// <summary>Equal values, floating point bit for bit (NaN payloads, -0), DateTime with its kind, sequences element by element, records by their text.</summary>
    private static void AssertSame(object? expected, object? actual)
    {
        switch (expected)
        {
            case null:
                Assert.Null(actual);
                break;
            case double d:
                Assert.Equal(BitConverter.DoubleToInt64Bits(d), BitConverter.DoubleToInt64Bits(Assert.IsType<double>(actual)));
                break;
            case float f:
                Assert.Equal(BitConverter.SingleToInt32Bits(f), BitConverter.SingleToInt32Bits(Assert.IsType<float>(actual)));
                break;
            case decimal m:
                Assert.Equal(decimal.GetBits(m), decimal.GetBits(Assert.IsType<decimal>(actual))); // the scale too: 1.10m is not 1.1m
                break;
            case DateTime t:
                var at = Assert.IsType<DateTime>(actual);
                Assert.Equal((t.Ticks, t.Kind), (at.Ticks, at.Kind));
                break;
            case DateTimeOffset o:
                var ao = Assert.IsType<DateTimeOffset>(actual);
                Assert.Equal((o.Ticks, o.Offset), (ao.Ticks, ao.Offset));
                break;
            case string s:
                Assert.Equal(s, Assert.IsType<string>(actual));
                break;
            case IEnumerable sequence:
                var expectedItems = sequence.Cast<object?>().ToList();
                var actualItems = Assert.IsAssignableFrom<IEnumerable>(actual).Cast<object?>().ToList();
                Assert.Equal(expectedItems.Count, actualItems.Count);
                for (int i = 0; i < expectedItems.Count; i++)
                {
                    AssertSame(expectedItems[i], actualItems[i]);
                }

                break;
            default:
                Assert.Equal(expected.GetType(), actual?.GetType());
                // Records and tuples compare member by member through their JSON (records hold lists, which compare by reference).
                Assert.Equal(JsonSerializer.Serialize(expected, expected.GetType(), s_json), JsonSerializer.Serialize(actual, expected.GetType(), s_json));
                break;
        }
    }
}
