using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace LinqStream.Runtime.Checkpoints;

/// <summary>
/// Writes and reads the values inside operator state: numbers, times and strings in binary; arrays, lists and tuples element by
/// element; the engine's own state records field by field; and the user's payload and key types as UTF-8 JSON.
/// </summary>
/// <remarks>
/// Checkpoints are rare next to events, so this is reflection-based and cached per type; it never runs on the per-event path.
/// JSON for user types handles records, classes with setters, anonymous types and tuples without asking the user for anything.
/// </remarks>
internal static class StateCodec
{
    private static readonly ConcurrentDictionary<Type, Codec> Cache = new();

    [ThreadStatic]
    private static System.Buffers.ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_json;

    private static readonly JsonSerializerOptions Json = new()
    {
        IncludeFields = true,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        MaxDepth = 256,
    };

    public static void Write(BinaryWriter writer, object? value, Type type) => For(type).Write(writer, value);

    public static object? Read(BinaryReader reader, Type type) => For(type).Read(reader);

    private static Codec For(Type type) => Cache.GetOrAdd(type, Create);

    private static Codec Create(Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            var inner = For(underlying);
            return new Codec(
                (w, v) =>
                {
                    w.Write(v is not null);
                    if (v is not null)
                    {
                        inner.Write(w, v);
                    }
                },
                r => r.ReadBoolean() ? inner.Read(r) : null);
        }

        if (type.IsEnum)
        {
            var inner = For(Enum.GetUnderlyingType(type));
            return new Codec((w, v) => inner.Write(w, Convert.ChangeType(v!, Enum.GetUnderlyingType(type), System.Globalization.CultureInfo.InvariantCulture)), r => Enum.ToObject(type, inner.Read(r)!));
        }

        if (Primitive(type) is { } primitive)
        {
            return primitive;
        }

        if (type.IsArray && type.GetArrayRank() == 1)
        {
            var elementType = type.GetElementType()!;
            var element = For(elementType);
            return OrNull(type, new Codec(
                (w, v) =>
                {
                    var array = (Array)v!;
                    w.Write(array.Length);
                    for (int i = 0; i < array.Length; i++)
                    {
                        element.Write(w, array.GetValue(i));
                    }
                },
                r =>
                {
                    int n = ReadLength(r);
                    var array = Array.CreateInstance(elementType, n);
                    for (int i = 0; i < n; i++)
                    {
                        array.SetValue(element.Read(r), i);
                    }

                    return array;
                }));
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() is var definition
            && (definition == typeof(IReadOnlyList<>) || definition == typeof(List<>) || definition == typeof(IList<>) || definition == typeof(IEnumerable<>)))
        {
            var elementType = type.GetGenericArguments()[0];
            var element = For(elementType);
            var listType = typeof(List<>).MakeGenericType(elementType);
            return OrNull(type, new Codec(
                (w, v) =>
                {
                    var items = ((IEnumerable)v!).Cast<object?>().ToList();
                    w.Write(items.Count);
                    foreach (var item in items)
                    {
                        element.Write(w, item);
                    }
                },
                r =>
                {
                    int n = ReadLength(r);
                    var list = (IList)Activator.CreateInstance(listType, n)!;
                    for (int i = 0; i < n; i++)
                    {
                        list.Add(element.Read(r));
                    }

                    return list;
                }));
        }

        if (type.IsValueType && type.FullName is { } name && name.StartsWith("System.ValueTuple`", StringComparison.Ordinal))
        {
            var fields = type.GetFields(BindingFlags.Public | BindingFlags.Instance).OrderBy(f => f.Name, StringComparer.Ordinal).ToArray();
            var codecs = fields.Select(f => For(f.FieldType)).ToArray();
            return new Codec(
                (w, v) =>
                {
                    for (int i = 0; i < fields.Length; i++)
                    {
                        codecs[i].Write(w, fields[i].GetValue(v));
                    }
                },
                r =>
                {
                    object boxed = RuntimeHelpers.GetUninitializedObject(type);
                    for (int i = 0; i < fields.Length; i++)
                    {
                        fields[i].SetValue(boxed, codecs[i].Read(r));
                    }

                    return boxed;
                });
        }

        if (type.Assembly == typeof(StateCodec).Assembly)
        {
            return OrNull(type, EngineRecord(type));
        }

        var typeInfo = Json.GetTypeInfo(type);
        return OrNull(type, new Codec(
            (w, v) =>
            {
                // One reusable buffer and writer per thread: no array per value.
                var buffer = t_buffer ??= new System.Buffers.ArrayBufferWriter<byte>(1024);
                var json = t_json ??= new Utf8JsonWriter(buffer);
                buffer.ResetWrittenCount();
                json.Reset(buffer);
                JsonSerializer.Serialize(json, v, typeInfo);
                json.Flush();
                w.Write(buffer.WrittenCount);
                w.Write(buffer.WrittenSpan);
            },
            r =>
            {
                int n = ReadLength(r);
                var bytes = r.ReadBytes(n);
                if (bytes.Length != n)
                {
                    throw new EndOfStreamException();
                }

                return JsonSerializer.Deserialize(bytes, typeInfo);
            }));
    }

    /// <summary>An engine state record: the constructor's parameters from the matching properties, then any other settable property.</summary>
    private static Codec EngineRecord(Type type)
    {
        var constructor = type.GetConstructors(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance)
            .Where(c => c.GetParameters() is not [{ } only] || only.ParameterType != type)
            .OrderByDescending(c => c.GetParameters().Length)
            .FirstOrDefault();
        var parameters = constructor?.GetParameters() ?? [];
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance);
        var byParameter = parameters
            .Select(p => properties.FirstOrDefault(q => string.Equals(q.Name, p.Name, StringComparison.OrdinalIgnoreCase))
                ?? throw new NotSupportedException($"State type {type} has no property for constructor parameter '{p.Name}'."))
            .ToArray();
        var parameterCodecs = parameters.Select(p => For(p.ParameterType)).ToArray();
        var getters = byParameter.Select(Getter).ToArray();
        var extra = properties.Where(p => p.CanWrite && !byParameter.Contains(p) && p.GetIndexParameters().Length == 0).ToArray();
        var extraCodecs = extra.Select(p => For(p.PropertyType)).ToArray();
        return new Codec(
            (w, v) =>
            {
                for (int i = 0; i < getters.Length; i++)
                {
                    parameterCodecs[i].Write(w, getters[i](v!));
                }

                for (int i = 0; i < extra.Length; i++)
                {
                    extraCodecs[i].Write(w, extra[i].GetValue(v));
                }
            },
            r =>
            {
                var arguments = new object?[parameters.Length];
                for (int i = 0; i < arguments.Length; i++)
                {
                    arguments[i] = parameterCodecs[i].Read(r);
                }

                object result = constructor is null ? RuntimeHelpers.GetUninitializedObject(type) : constructor.Invoke(arguments);
                for (int i = 0; i < extra.Length; i++)
                {
                    extra[i].SetValue(result, extraCodecs[i].Read(r));
                }

                return result;
            });
    }

    /// <summary>A compiled property read (no reflection per value; the value is boxed once, as the codecs take objects).</summary>
    private static Func<object, object?> Getter(PropertyInfo property)
    {
        var instance = System.Linq.Expressions.Expression.Parameter(typeof(object), "instance");
        var read = System.Linq.Expressions.Expression.Property(System.Linq.Expressions.Expression.Convert(instance, property.DeclaringType!), property);
        return System.Linq.Expressions.Expression.Lambda<Func<object, object?>>(System.Linq.Expressions.Expression.Convert(read, typeof(object)), instance).Compile();
    }

    private static Codec OrNull(Type type, Codec inner) =>
        type.IsValueType
            ? inner
            : new Codec(
                (w, v) =>
                {
                    w.Write(v is not null);
                    if (v is not null)
                    {
                        inner.Write(w, v);
                    }
                },
                r => r.ReadBoolean() ? inner.Read(r) : null);

    private static int ReadLength(BinaryReader reader)
    {
        int n = reader.ReadInt32();
        if (n < 0 || n > reader.BaseStream.Length - reader.BaseStream.Position)
        {
            throw new InvalidDataException($"A length of {n} at byte {reader.BaseStream.Position - 4} does not fit in the checkpoint.");
        }

        return n;
    }

    private static Codec? Primitive(Type type) => Type.GetTypeCode(type) switch
    {
        TypeCode.Boolean => new((w, v) => w.Write((bool)v!), r => r.ReadBoolean()),
        TypeCode.Byte => new((w, v) => w.Write((byte)v!), r => r.ReadByte()),
        TypeCode.SByte => new((w, v) => w.Write((sbyte)v!), r => r.ReadSByte()),
        TypeCode.Int16 => new((w, v) => w.Write((short)v!), r => r.ReadInt16()),
        TypeCode.UInt16 => new((w, v) => w.Write((ushort)v!), r => r.ReadUInt16()),
        TypeCode.Char => new((w, v) => w.Write((ushort)(char)v!), r => (char)r.ReadUInt16()),
        TypeCode.Int32 => new((w, v) => w.Write((int)v!), r => r.ReadInt32()),
        TypeCode.UInt32 => new((w, v) => w.Write((uint)v!), r => r.ReadUInt32()),
        TypeCode.Int64 => new((w, v) => w.Write((long)v!), r => r.ReadInt64()),
        TypeCode.UInt64 => new((w, v) => w.Write((ulong)v!), r => r.ReadUInt64()),
        TypeCode.Single => new((w, v) => w.Write((float)v!), r => r.ReadSingle()),
        TypeCode.Double => new((w, v) => w.Write((double)v!), r => r.ReadDouble()),
        TypeCode.Decimal => new((w, v) => w.Write((decimal)v!), r => r.ReadDecimal()),
        TypeCode.DateTime => new((w, v) => w.Write(((DateTime)v!).ToBinary()), r => DateTime.FromBinary(r.ReadInt64())),
        TypeCode.String => new(
            (w, v) =>
            {
                w.Write(v is not null);
                if (v is not null)
                {
                    w.Write((string)v);
                }
            },
            r => r.ReadBoolean() ? r.ReadString() : null),
        _ when type == typeof(DateTimeOffset) => new(
            (w, v) =>
            {
                var d = (DateTimeOffset)v!;
                w.Write(d.Ticks);
                w.Write((short)d.TotalOffsetMinutes);
            },
            r =>
            {
                long ticks = r.ReadInt64();
                return new DateTimeOffset(ticks, TimeSpan.FromMinutes(r.ReadInt16()));
            }),
        _ when type == typeof(Int128) => new(
            (w, v) =>
            {
                var x = (Int128)v!;
                w.Write((ulong)(x >> 64));
                w.Write((ulong)x);
            },
            r =>
            {
                ulong upper = r.ReadUInt64();
                return new Int128(upper, r.ReadUInt64());
            }),
        _ when type == typeof(TimeSpan) => new((w, v) => w.Write(((TimeSpan)v!).Ticks), r => new TimeSpan(r.ReadInt64())),
        _ when type == typeof(Guid) => new((w, v) => w.Write(((Guid)v!).ToByteArray()), r => new Guid(r.ReadBytes(16))),
        _ when type == typeof(object) => throw new NotSupportedException("A checkpoint cannot write a value typed only as 'object'; the state type must say what it holds."),
        _ => null,
    };

    private sealed record Codec(Action<BinaryWriter, object?> Write, Func<BinaryReader, object?> Read);
}
