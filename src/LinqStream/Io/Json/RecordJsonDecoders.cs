using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace LinqStream.Io.Json;

/// <summary>
/// Builds a <see cref="RecordJsonDecoder{T}"/> from System.Text.Json's metadata for a type, once per <see cref="JsonTypeInfo"/>, or
/// says in one sentence why the type is not a shape it reads (System.Text.Json then reads every record).
/// </summary>
/// <remarks>
/// Shapes read: a class, record or struct made by its parameterless constructor and set through its properties or fields (<c>init</c>
/// ones included), or made by a constructor whose parameters are its properties (positional records), or both; members of type
/// <see cref="bool"/>, the integer types, <see cref="char"/>, <see cref="float"/>, <see cref="double"/>, <see cref="decimal"/>,
/// <see cref="string"/>, <see cref="DateTime"/>, <see cref="DateTimeOffset"/>, <see cref="Guid"/>, enums written as numbers, any of
/// those as <see cref="Nullable{T}"/>, and nested records of the same kind (classes). Not read: collections, dictionaries,
/// <see cref="object"/> and <see cref="JsonElement"/> members, converters of one's own, polymorphism, reference handling, extension
/// data, callbacks, populated members, more than 64 properties.
/// </remarks>
internal static class RecordJsonDecoders
{
    private const int MaxMembers = 64;
    private static readonly ConditionalWeakTable<JsonTypeInfo, Built> s_built = new();
    private static readonly ConditionalWeakTable<JsonTypeInfo, ConcurrentDictionary<string, Built>> s_projections = new();
    private static readonly MethodInfo s_newDecoder = typeof(RecordJsonDecoders).GetMethod(nameof(NewDecoder), BindingFlags.NonPublic | BindingFlags.Static)!;

    /// <summary>Gets the decoder for <paramref name="typeInfo"/>'s type, or <see langword="null"/> and the reason.</summary>
    public static RecordJsonDecoder<T>? TryGet<T>(JsonTypeInfo<T> typeInfo, out string reason)
    {
        var built = s_built.GetValue(typeInfo, static info => Build(info, null));
        reason = built.Reason ?? "";
        return built.Decoder as RecordJsonDecoder<T>;
    }

    /// <summary>
    /// Builds a decoder for <paramref name="typeInfo"/>'s type that reads only the members in <paramref name="reading"/> (a projection:
    /// the other members' values are skipped, and the record keeps what it has without them), or <see langword="null"/> and the reason.
    /// Cached per metadata and set of names (a query subscribed again, or a new serializer for the same projection, compiles nothing).
    /// </summary>
    public static RecordJsonDecoder<T>? TryBuild<T>(JsonTypeInfo<T> typeInfo, IReadOnlyCollection<string> reading, out string reason)
    {
        var projections = s_projections.GetValue(typeInfo, static _ => new ConcurrentDictionary<string, Built>(StringComparer.Ordinal));
        string key = string.Join('\n', reading.Select(name => name.ToUpperInvariant()).Order(StringComparer.Ordinal));
        var built = projections.GetOrAdd(key, static (_, state) => Build(state.TypeInfo, state.Reading), (TypeInfo: (JsonTypeInfo)typeInfo, Reading: reading));
        reason = built.Reason ?? "";
        return built.Decoder as RecordJsonDecoder<T>;
    }

    /// <summary>
    /// Whether <paramref name="property"/> is one of <paramref name="names"/>: its JSON name or its C# member's name, ignoring case (so
    /// <c>nameof(Bid.Url)</c> names the JSON property <c>url</c>).
    /// </summary>
    public static bool IsNamed(JsonPropertyInfo property, IReadOnlyCollection<string> names)
    {
        string? memberName = (property.AttributeProvider as MemberInfo)?.Name ?? property.AssociatedParameter?.Name;
        foreach (var name in names)
        {
            if (string.Equals(name, property.Name, StringComparison.OrdinalIgnoreCase)
                || (memberName is not null && string.Equals(name, memberName, StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        return false;
    }

    private static Built Build(JsonTypeInfo typeInfo, IReadOnlyCollection<string>? reading)
    {
        if (!RuntimeFeature.IsDynamicCodeSupported)
        {
            return new Built(null, "this runtime cannot compile code (native AOT)");
        }

        try
        {
            // Part of the metadata (constructor parameters) is filled in when System.Text.Json configures the type, which its first
            // use does: write a default value once.
            JsonSerializer.Serialize(typeInfo.Type.IsValueType ? Activator.CreateInstance(typeInfo.Type) : null, typeInfo);
            var decoder = Create(typeInfo, [], reading, out string? reason);
            return new Built(decoder, reason);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or NotSupportedException or TargetInvocationException)
        {
            return new Built(null, $"building the record decoder failed: {(ex.InnerException ?? ex).Message}");
        }
    }

    /// <param name="typeInfo">The type's metadata.</param>
    /// <param name="building">The decoders being built, by type (a record that holds its own type).</param>
    /// <param name="reading">The members to read, or <see langword="null"/> for all; nested records are read whole.</param>
    /// <param name="reason">Why the type is not read, or <see langword="null"/>.</param>
    private static RecordJsonDecoder? Create(JsonTypeInfo typeInfo, Dictionary<Type, RecordJsonDecoder> building, IReadOnlyCollection<string>? reading, out string? reason)
    {
        var type = typeInfo.Type;
        if (reading is null && building.TryGetValue(type, out var known))
        {
            // A record that holds its own type: the decoder being built reads the nested one too.
            reason = null;
            return known;
        }

        reason = Refusal(typeInfo);
        if (reason is not null)
        {
            return null;
        }

        var decoder = (RecordJsonDecoder)s_newDecoder.MakeGenericMethod(type).Invoke(null, null)!;
        if (reading is null)
        {
            building.Add(type, decoder);
        }

        var options = typeInfo.Options;
        var members = new RecordJsonMember[typeInfo.Properties.Count];
        ulong required = 0;
        for (int i = 0; i < members.Length; i++)
        {
            var property = typeInfo.Properties[i];
            var member = (reading is not null && !IsNamed(property, reading) ? Skipped(type, property, options) : null)
                ?? CreateMember(type, property, options, building, out reason);
            if (member is null)
            {
                reason = $"its property '{property.Name}' {reason}";
                return null;
            }

            bool requiredParameter = member.Parameter >= 0 && options.RespectRequiredConstructorParameters && property.AssociatedParameter is { HasDefaultValue: false };
            if (property.IsRequired || requiredParameter)
            {
                required |= 1UL << i;
            }

            members[i] = member;
        }

        var constructor = FindConstructor(typeInfo, members, out reason);
        if (reason is not null)
        {
            return null;
        }

        var unmapped = typeInfo.UnmappedMemberHandling ?? options.UnmappedMemberHandling;
        decoder.Complete(members, constructor, required, options, unmapped == JsonUnmappedMemberHandling.Disallow);
        return decoder;
    }

    /// <summary>Why the type as a whole is not a shape the decoder reads, or <see langword="null"/>.</summary>
    private static string? Refusal(JsonTypeInfo typeInfo)
    {
        var options = typeInfo.Options;
        return typeInfo switch
        {
            { Kind: not JsonTypeInfoKind.Object } => $"System.Text.Json does not read it as an object of properties (its kind is {typeInfo.Kind}: a collection, or a converter of its own)",
            { PolymorphismOptions: not null } => "it is polymorphic ($type)",
            { OnDeserializing: not null } or { OnDeserialized: not null } => "it has deserialization callbacks",
            { PreferredPropertyObjectCreationHandling: JsonObjectCreationHandling.Populate } => "its members are populated in place",
            { Properties.Count: > MaxMembers } => $"it has more than {MaxMembers} properties",
            _ when typeInfo.Type.IsAbstract || typeInfo.Type.IsInterface => "it is abstract",
            _ when options.ReferenceHandler is not null => "the options handle references ($id, $ref)",
            _ => null,
        };
    }

    private static RecordJsonMember? CreateMember(Type declaringType, JsonPropertyInfo property, JsonSerializerOptions options, Dictionary<Type, RecordJsonDecoder> building, out string? reason)
    {
        reason = property switch
        {
            { IsExtensionData: true } => "holds extension data",
            { CustomConverter: not null } => "has a converter of its own",
            { ObjectCreationHandling: JsonObjectCreationHandling.Populate } => "is populated in place",
            _ => null,
        };
        if (reason is not null)
        {
            return null;
        }

        var parameter = property.AssociatedParameter;
        bool inConstructor = parameter is { IsMemberInitializer: false };
        bool settable = !inConstructor && (property.Set is not null || parameter is { IsMemberInitializer: true });
        var type = property.PropertyType;
        var valueType = Nullable.GetUnderlyingType(type) ?? type;
        var name = property.Name;
        if (!inConstructor && !settable)
        {
            // System.Text.Json skips the value of a property it cannot set.
            return new RecordJsonMember
            {
                Name = name, Utf8Name = Encoding.UTF8.GetBytes(name), Kind = RecordMemberKind.Ignored, Type = type, ValueType = valueType, AcceptsNull = true,
            };
        }

        var memberInfo = settable ? FindMember(declaringType, property, options) : null;
        if (settable && memberInfo is not (PropertyInfo { SetMethod: not null } or FieldInfo { IsInitOnly: false }))
        {
            reason = "is set in a way compiled code cannot reproduce";
            return null;
        }

        var kind = KindOf(valueType, options, out reason);
        RecordJsonDecoder? nested = null;
        if (kind == RecordMemberKind.Record)
        {
            nested = Create(options.GetTypeInfo(valueType), building, null, out reason);
            if (nested is null)
            {
                reason = $"is a '{Display(valueType)}', and {reason}";
                return null;
            }
        }
        else if (reason is not null)
        {
            return null;
        }

        return new RecordJsonMember
        {
            Name = name,
            Utf8Name = Encoding.UTF8.GetBytes(name),
            Kind = kind,
            Type = type,
            ValueType = valueType,
            AcceptsNull = !type.IsValueType || valueType != type,
            Member = inConstructor ? null : memberInfo,
            Parameter = inConstructor ? parameter!.Position : -1,
            ParameterDefault = parameter is { HasDefaultValue: true } ? parameter.DefaultValue : null,
            AssignWhenMissing = parameter is { IsMemberInitializer: true },
            Nested = nested,
            Strings = kind == RecordMemberKind.String ? new Utf8StringCache() : null,
        };
    }

    /// <summary>
    /// A member a projection does not read: its value is skipped, and the record gets what System.Text.Json gives it when the JSON
    /// does not have the member (a constructor parameter its default value; an <c>init</c>-only member of source-generated metadata
    /// its type's default; any other member its initializer's value). <see langword="null"/> when that cannot be reproduced: the
    /// member is then read.
    /// </summary>
    private static RecordJsonMember? Skipped(Type declaringType, JsonPropertyInfo property, JsonSerializerOptions options)
    {
        var type = property.PropertyType;
        var parameter = property.AssociatedParameter;
        bool inConstructor = parameter is { IsMemberInitializer: false };
        bool assign = parameter is { IsMemberInitializer: true };
        var memberInfo = assign ? FindMember(declaringType, property, options) : null;
        if (assign && memberInfo is not (PropertyInfo { SetMethod: not null } or FieldInfo { IsInitOnly: false }))
        {
            return null;
        }

        return new RecordJsonMember
        {
            Name = property.Name,
            Utf8Name = Encoding.UTF8.GetBytes(property.Name),
            Kind = RecordMemberKind.Ignored,
            Type = type,
            ValueType = Nullable.GetUnderlyingType(type) ?? type,
            AcceptsNull = true,
            Member = memberInfo,
            Parameter = inConstructor ? parameter!.Position : -1,
            ParameterDefault = parameter is { HasDefaultValue: true } ? parameter.DefaultValue : null,
            AssignWhenMissing = assign,
        };
    }

    /// <summary>
    /// The property or field a JSON property sets: System.Text.Json's <see cref="JsonPropertyInfo.AttributeProvider"/>, or, when the
    /// metadata does not give it, the member whose name (its <see cref="JsonPropertyNameAttribute"/>, or its name under the naming
    /// policy) and type are the JSON property's.
    /// </summary>
    private static MemberInfo? FindMember(Type type, JsonPropertyInfo property, JsonSerializerOptions options)
    {
        if (property.AttributeProvider is MemberInfo member)
        {
            return member;
        }

        const BindingFlags All = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
        foreach (var candidate in type.GetProperties(All).Cast<MemberInfo>().Concat(type.GetFields(All)))
        {
            var declared = candidate is PropertyInfo p ? p.PropertyType : ((FieldInfo)candidate).FieldType;
            string name = candidate.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? options.PropertyNamingPolicy?.ConvertName(candidate.Name) ?? candidate.Name;
            if (declared == property.PropertyType && name == property.Name)
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>How a value of <paramref name="type"/> is read, provided System.Text.Json reads it with its built-in converter.</summary>
    private static RecordMemberKind KindOf(Type type, JsonSerializerOptions options, out string? reason)
    {
        reason = null;
        if (type.IsEnum)
        {
            reason = EnumRefusal(type, options);
            return reason is null ? KindOf(Enum.GetUnderlyingType(type), options, out reason) : RecordMemberKind.Ignored;
        }

        (RecordMemberKind Kind, JsonConverter? Converter) found = type switch
        {
            _ when type == typeof(bool) => (RecordMemberKind.Boolean, JsonMetadataServices.BooleanConverter),
            _ when type == typeof(sbyte) => (RecordMemberKind.SByte, JsonMetadataServices.SByteConverter),
            _ when type == typeof(byte) => (RecordMemberKind.Byte, JsonMetadataServices.ByteConverter),
            _ when type == typeof(short) => (RecordMemberKind.Int16, JsonMetadataServices.Int16Converter),
            _ when type == typeof(ushort) => (RecordMemberKind.UInt16, JsonMetadataServices.UInt16Converter),
            _ when type == typeof(int) => (RecordMemberKind.Int32, JsonMetadataServices.Int32Converter),
            _ when type == typeof(uint) => (RecordMemberKind.UInt32, JsonMetadataServices.UInt32Converter),
            _ when type == typeof(long) => (RecordMemberKind.Int64, JsonMetadataServices.Int64Converter),
            _ when type == typeof(ulong) => (RecordMemberKind.UInt64, JsonMetadataServices.UInt64Converter),
            _ when type == typeof(char) => (RecordMemberKind.Char, JsonMetadataServices.CharConverter),
            _ when type == typeof(float) => (RecordMemberKind.Single, JsonMetadataServices.SingleConverter),
            _ when type == typeof(double) => (RecordMemberKind.Double, JsonMetadataServices.DoubleConverter),
            _ when type == typeof(decimal) => (RecordMemberKind.Decimal, JsonMetadataServices.DecimalConverter),
            _ when type == typeof(string) => (RecordMemberKind.String, JsonMetadataServices.StringConverter),
            _ when type == typeof(DateTime) => (RecordMemberKind.DateTime, JsonMetadataServices.DateTimeConverter),
            _ when type == typeof(DateTimeOffset) => (RecordMemberKind.DateTimeOffset, JsonMetadataServices.DateTimeOffsetConverter),
            _ when type == typeof(Guid) => (RecordMemberKind.Guid, JsonMetadataServices.GuidConverter),
            _ => (RecordMemberKind.Record, null),
        };

        var (kind, converter) = found;
        if (converter is not null)
        {
            bool builtIn = options.TryGetTypeInfo(type, out var info)
                ? info.Converter.GetType() == converter.GetType()
                : !options.Converters.Any(c => c.CanConvert(type));
            reason = builtIn ? null : "is read by a converter of the options";
            return kind;
        }

        if (type.IsValueType || type.IsArray || type == typeof(object) || typeof(System.Collections.IEnumerable).IsAssignableFrom(type))
        {
            reason = $"is a '{Display(type)}', which the record decoder does not read";
            return RecordMemberKind.Ignored;
        }

        return RecordMemberKind.Record;
    }

    /// <summary>An enum is read as its number: refused when the options read it by name (a string enum converter that may refuse numbers).</summary>
    private static string? EnumRefusal(Type type, JsonSerializerOptions options)
    {
        if (type.GetCustomAttribute<JsonConverterAttribute>() is not null || options.Converters.Any(c => c.CanConvert(type)))
        {
            return $"is the enum '{type.Name}' with a converter (read by name)";
        }

        if (options.TryGetTypeInfo(type, out var info))
        {
            var values = Enum.GetValuesAsUnderlyingType(type);
            object sample = values.Length > 0 ? Enum.ToObject(type, values.GetValue(0)!) : Activator.CreateInstance(type)!;
            if (JsonSerializer.Serialize(sample, info).StartsWith('"'))
            {
                return $"is the enum '{type.Name}' written by name";
            }
        }

        return null;
    }

    private static ConstructorInfo? FindConstructor(JsonTypeInfo typeInfo, RecordJsonMember[] members, out string? reason)
    {
        reason = null;
        var parameters = members.Where(m => m.Parameter >= 0).OrderBy(m => m.Parameter).ToArray();
        for (int i = 0; i < parameters.Length; i++)
        {
            if (parameters[i].Parameter != i)
            {
                reason = "its constructor parameters do not match its properties one to one";
                return null;
            }
        }

        bool Fits(ConstructorInfo c)
        {
            var declared = c.GetParameters();
            return declared.Length == parameters.Length && declared.Select((p, i) => p.ParameterType == parameters[i].Type).All(b => b);
        }

        var type = typeInfo.Type;
        if (typeInfo.ConstructorAttributeProvider is ConstructorInfo given && Fits(given))
        {
            return given;
        }

        var found = type.GetConstructors(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic).FirstOrDefault(Fits);
        if (found is null && !(type.IsValueType && parameters.Length == 0))
        {
            reason = "no constructor of it takes the constructor parameters System.Text.Json names";
        }

        return found;
    }

    private static RecordJsonDecoder NewDecoder<TRecord>() => new RecordJsonDecoder<TRecord>();

    /// <summary>A type's name as C# writes it (<c>List&lt;String&gt;</c>, not <c>List`1</c>).</summary>
    private static string Display(Type type) => type.IsGenericType
        ? $"{type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)]}<{string.Join(", ", type.GetGenericArguments().Select(Display))}>"
        : type.Name;

    private sealed record Built(RecordJsonDecoder? Decoder, string? Reason);
}
