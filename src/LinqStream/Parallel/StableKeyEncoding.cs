using System.Buffers.Binary;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Linq.Expressions;
using System.Text;
using Member = System.Reflection.MemberInfo;

namespace LinqStream.Parallel;

/// <summary>
/// Writes a key as a fixed sequence of bytes that is the same in every process and on every machine (unlike
/// <see cref="object.GetHashCode"/> of strings, tuples and records, which .NET randomizes per process).
/// </summary>
/// <remarks>
/// The encoding (docs/parallelism.md, "Key groups"): integers, <see cref="char"/> and <see cref="bool"/> little-endian at
/// their own width; enums as their underlying integer; <see cref="float"/>/<see cref="double"/> as IEEE bits with -0 folded
/// into +0 and every NaN into one; <see cref="decimal"/> with trailing zeros removed (so <c>1.0m</c> and <c>1.00m</c>, which
/// are equal, encode alike); <see cref="DateTime"/> and <see cref="TimeSpan"/> as ticks; <see cref="DateTimeOffset"/> as UTC
/// ticks; <see cref="Guid"/> as its 16 bytes; a string as UTF-8 (inside a composite key, after its length as 4 bytes).
/// A composite key (tuples, anonymous types, records, classes and structs) is its members in order: tuple items, the
/// constructor's parameters for anonymous types, otherwise public properties and fields in declaration order; a member
/// that can be null starts with one byte, 0 for null and 1 before its value. A null key has no bytes and hashes to 0.
/// </remarks>
internal static class StableKeyEncoding
{
    private static readonly ConditionalWeakTable<Type, Member[]> s_members = [];

    /// <summary>Builds the writer of <paramref name="type"/>: (buffer, value) → appends the encoding; <paramref name="nested"/> adds null tags and string lengths.</summary>
    public static LambdaExpression BuildWriter(Type type, bool nested)
    {
        var buffer = Expression.Parameter(typeof(KeyBuffer), "buffer");
        var value = Expression.Parameter(type, "value");
        return Expression.Lambda(typeof(Action<,>).MakeGenericType(typeof(KeyBuffer), type), Body(buffer, value, type, nested), buffer, value);
    }

    private static Expression Body(ParameterExpression buffer, Expression value, Type type, bool nested)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        if (underlying is not null)
        {
            var inner = Body(buffer, Expression.Property(value, "Value"), underlying, nested);
            return Expression.IfThenElse(
                Expression.Property(value, "HasValue"),
                nested ? Expression.Block(Call(buffer, nameof(KeyBuffer.WriteByte), Expression.Constant((byte)1)), inner) : inner,
                nested ? Call(buffer, nameof(KeyBuffer.WriteByte), Expression.Constant((byte)0)) : Expression.Empty());
        }

        if (!type.IsValueType)
        {
            var inner = Value(buffer, value, type, nested);
            return Expression.IfThenElse(
                Expression.ReferenceNotEqual(value, Expression.Constant(null, type)),
                nested ? Expression.Block(Call(buffer, nameof(KeyBuffer.WriteByte), Expression.Constant((byte)1)), inner) : inner,
                nested ? Call(buffer, nameof(KeyBuffer.WriteByte), Expression.Constant((byte)0)) : Expression.Empty());
        }

        return Value(buffer, value, type, nested);
    }

    private static Expression Value(ParameterExpression buffer, Expression value, Type type, bool nested)
    {
        if (type.IsEnum)
        {
            var raw = Enum.GetUnderlyingType(type);
            return Value(buffer, Expression.Convert(value, raw), raw, nested);
        }

        if (type == typeof(string))
        {
            return Call(buffer, nested ? nameof(KeyBuffer.WriteUtf8WithLength) : nameof(KeyBuffer.WriteUtf8), value);
        }

        var method = typeof(KeyBuffer).GetMethod(nameof(KeyBuffer.Write), [type]);
        if (method is not null)
        {
            return Expression.Call(buffer, method, value);
        }

        if (type == typeof(Physical.Aggregate.NoKey))
        {
            return Expression.Empty();
        }

        var members = Members(type);
        if (members.Length == 0)
        {
            throw new NotSupportedException($"The key type '{type}' has no public properties or fields to route it by; key it by a tuple or a record of its values.");
        }

        return Expression.Block(members.Select(m => Body(buffer, Expression.MakeMemberAccess(value, m), MemberType(m), nested: true)));
    }

    private static MethodCallExpression Call(ParameterExpression buffer, string name, Expression argument) =>
        Expression.Call(buffer, typeof(KeyBuffer).GetMethod(name, [argument.Type])!, argument);

    private static Type MemberType(MemberInfo member) => member is PropertyInfo p ? p.PropertyType : ((FieldInfo)member).FieldType;

    /// <summary>The members a composite key is encoded by, in order.</summary>
    internal static Member[] Members(Type type) => s_members.GetValue(type, static t => FindMembers(t));

    private static Member[] FindMembers(Type type)
    {
        if (type.FullName?.StartsWith("System.ValueTuple`", StringComparison.Ordinal) == true
            || type.FullName?.StartsWith("System.Tuple`", StringComparison.Ordinal) == true)
        {
            // Item1..Item7, then Rest: by name length, then name.
            return type.GetMembers(BindingFlags.Public | BindingFlags.Instance)
                .Where(m => m is FieldInfo || (m is PropertyInfo p && p.GetIndexParameters().Length == 0 && p.Name.StartsWith("Item", StringComparison.Ordinal)) || m.Name == "Rest")
                .Where(m => m is FieldInfo || m is PropertyInfo)
                .OrderBy(m => m.Name.Length).ThenBy(m => m.Name, StringComparer.Ordinal).ToArray();
        }

        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanRead && p.GetIndexParameters().Length == 0).ToArray();
        if (Attribute.IsDefined(type, typeof(CompilerGeneratedAttribute)) && type.Name.Contains("AnonymousType", StringComparison.Ordinal))
        {
            // An anonymous type's constructor takes its members in the order they were written.
            return type.GetConstructors()[0].GetParameters().Select(p => (Member)properties.Single(q => q.Name == p.Name)).ToArray();
        }

        // Declaration order is metadata-token order (records' EqualityContract is protected, so not listed).
        return properties.Cast<MemberInfo>().Concat(type.GetFields(BindingFlags.Public | BindingFlags.Instance))
            .OrderBy(m => m.MetadataToken).ToArray();
    }
}

/// <summary>A growable byte buffer, reused across keys by one thread.</summary>
internal sealed class KeyBuffer
{
    private byte[] _bytes = new byte[64];

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Span => _bytes.AsSpan(0, Length);

    public void Clear() => Length = 0;

    public void WriteByte(byte value) => Reserve(1)[0] = value;

    public void Write(bool value) => WriteByte(value ? (byte)1 : (byte)0);

    public void Write(byte value) => WriteByte(value);

    public void Write(sbyte value) => WriteByte((byte)value);

    public void Write(short value) => WriteInt16(value);

    public void Write(ushort value) => WriteInt16((short)value);

    public void Write(char value) => WriteInt16((short)value);

    public void Write(int value) => WriteInt32(value);

    public void Write(uint value) => WriteInt32((int)value);

    public void Write(long value) => WriteInt64(value);

    public void Write(ulong value) => WriteInt64((long)value);

    public void Write(float value) => WriteInt32(BitConverter.SingleToInt32Bits(value == 0 ? 0f : float.IsNaN(value) ? float.NaN : value));

    public void Write(double value) => WriteInt64(BitConverter.DoubleToInt64Bits(value == 0 ? 0d : double.IsNaN(value) ? double.NaN : value));

    public void Write(decimal value)
    {
        // Dividing by 1.000...0 (28 zeros) drops trailing zeros without changing the value: 1.00m and 1m encode alike.
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value / 1.0000000000000000000000000000m, bits);
        foreach (int b in bits)
        {
            WriteInt32(b);
        }
    }

    public void Write(DateTime value) => WriteInt64(value.Ticks);

    public void Write(DateTimeOffset value) => WriteInt64(value.UtcTicks);

    public void Write(TimeSpan value) => WriteInt64(value.Ticks);

    public void Write(Guid value) => value.TryWriteBytes(Reserve(16));

    public void WriteUtf8WithLength(string value)
    {
        WriteInt32(Encoding.UTF8.GetByteCount(value));
        WriteUtf8(value);
    }

    public void WriteInt16(short value) => BinaryPrimitives.WriteInt16LittleEndian(Reserve(2), value);

    public void WriteInt32(int value) => BinaryPrimitives.WriteInt32LittleEndian(Reserve(4), value);

    public void WriteInt64(long value) => BinaryPrimitives.WriteInt64LittleEndian(Reserve(8), value);

    public void WriteUtf8(string value) => Encoding.UTF8.GetBytes(value, Reserve(Encoding.UTF8.GetByteCount(value)));

    private Span<byte> Reserve(int count)
    {
        if (Length + count > _bytes.Length)
        {
            Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, Length + count));
        }

        var span = _bytes.AsSpan(Length, count);
        Length += count;
        return span;
    }
}
