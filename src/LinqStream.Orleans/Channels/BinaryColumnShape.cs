using System.Collections;
using System.Linq.Expressions;
using System.Reflection;

namespace LinqStream.Orleans.Channels;

/// <summary>
/// Builds, once per payload type, the two loops of a <see cref="BinaryColumnCodec{T}"/> as compiled expressions: one writes
/// <c>values[start..end]</c> member by member into a <see cref="ColumnWriter"/>, the other reads them back with a
/// <see cref="ColumnReader"/> and constructs each value. Everything about the type (which members, which constructor) is decided
/// here; the loops hold no reflection.
/// </summary>
/// <remarks>
/// <para>Supported: the primitive numbers, <c>bool</c>, <c>char</c>, <c>decimal</c>, <c>string</c>, <c>DateTime</c>,
/// <c>DateTimeOffset</c>, <c>TimeSpan</c>, <c>DateOnly</c>, <c>TimeOnly</c>, <c>Guid</c>, enums, <c>Nullable&lt;T&gt;</c> of these, and
/// records, classes, structs and anonymous types made of them (nested, not recursive). A value is written as its members; it is
/// built again by the public constructor whose parameters all match members (by name, ignoring case, and type; the one with the most
/// parameters), then the public settable (<c>set</c> or <c>init</c>) properties and fields the constructor did not take.</para>
/// <para>Refused (<see cref="NotSupportedException"/> naming the type and the member): arrays, collections, interfaces, abstract
/// types, <c>object</c>, recursive types, and a type with state the codec cannot carry (a field that is neither public nor behind a
/// public property, a get-only property its constructor does not take), so nothing is dropped without a word.</para>
/// </remarks>
internal static class BinaryColumnShape
{
    private static readonly Dictionary<Type, (string Write, string Read)> Scalars = new()
    {
        [typeof(byte)] = (nameof(ColumnWriter.WriteByte), nameof(ColumnReader.ReadByte)),
        [typeof(sbyte)] = (nameof(ColumnWriter.WriteSByte), nameof(ColumnReader.ReadSByte)),
        [typeof(bool)] = (nameof(ColumnWriter.WriteBoolean), nameof(ColumnReader.ReadBoolean)),
        [typeof(short)] = (nameof(ColumnWriter.WriteInt16), nameof(ColumnReader.ReadInt16)),
        [typeof(ushort)] = (nameof(ColumnWriter.WriteUInt16), nameof(ColumnReader.ReadUInt16)),
        [typeof(char)] = (nameof(ColumnWriter.WriteChar), nameof(ColumnReader.ReadChar)),
        [typeof(int)] = (nameof(ColumnWriter.WriteInt32), nameof(ColumnReader.ReadInt32)),
        [typeof(uint)] = (nameof(ColumnWriter.WriteUInt32), nameof(ColumnReader.ReadUInt32)),
        [typeof(long)] = (nameof(ColumnWriter.WriteInt64), nameof(ColumnReader.ReadInt64)),
        [typeof(ulong)] = (nameof(ColumnWriter.WriteUInt64), nameof(ColumnReader.ReadUInt64)),
        [typeof(float)] = (nameof(ColumnWriter.WriteSingle), nameof(ColumnReader.ReadSingle)),
        [typeof(double)] = (nameof(ColumnWriter.WriteDouble), nameof(ColumnReader.ReadDouble)),
        [typeof(decimal)] = (nameof(ColumnWriter.WriteDecimal), nameof(ColumnReader.ReadDecimal)),
        [typeof(DateTime)] = (nameof(ColumnWriter.WriteDateTime), nameof(ColumnReader.ReadDateTime)),
        [typeof(DateTimeOffset)] = (nameof(ColumnWriter.WriteDateTimeOffset), nameof(ColumnReader.ReadDateTimeOffset)),
        [typeof(TimeSpan)] = (nameof(ColumnWriter.WriteTimeSpan), nameof(ColumnReader.ReadTimeSpan)),
        [typeof(DateOnly)] = (nameof(ColumnWriter.WriteDateOnly), nameof(ColumnReader.ReadDateOnly)),
        [typeof(TimeOnly)] = (nameof(ColumnWriter.WriteTimeOnly), nameof(ColumnReader.ReadTimeOnly)),
        [typeof(Guid)] = (nameof(ColumnWriter.WriteGuid), nameof(ColumnReader.ReadGuid)),
        [typeof(string)] = (nameof(ColumnWriter.WriteString), nameof(ColumnReader.ReadString)),
    };

    private static readonly MethodInfo WritePresence = typeof(ColumnWriter).GetMethod(nameof(ColumnWriter.WriteBoolean))!;
    private static readonly MethodInfo ReadPresence = typeof(ColumnReader).GetMethod(nameof(ColumnReader.ReadPresence))!;

    /// <summary>Builds the writing loop <c>(writer, values, start, end)</c>.</summary>
    /// <exception cref="NotSupportedException">The type has a member the codec cannot carry; the message names it.</exception>
    /// <param name="only">The members of <typeparamref name="T"/> to write (a projection below the exchange), or null for all of them.</param>
    public static Action<ColumnWriter, T[], int, int> Writer<T>(IReadOnlyCollection<string>? only = null)
    {
        var writer = Expression.Parameter(typeof(ColumnWriter), "writer");
        var values = Expression.Parameter(typeof(T[]), "values");
        var body = Write(writer, Expression.ArrayIndex(values, Index), typeof(T), typeof(T).Name, [], only);
        return Expression.Lambda<Action<ColumnWriter, T[], int, int>>(Loop(body), writer, values, Start, End).Compile();
    }

    /// <summary>Builds the reading loop <c>(reader, destination, start, end)</c>.</summary>
    /// <exception cref="NotSupportedException">The type has a member the codec cannot carry; the message names it.</exception>
    /// <param name="only">The members of <typeparamref name="T"/> the column holds (the others are left at their defaults: the value's
    /// constructor gets <c>default</c> for them, its initializers keep theirs), or null for all of them.</param>
    public static Action<ColumnReader, T[], int, int> Reader<T>(IReadOnlyCollection<string>? only = null)
    {
        var reader = Expression.Parameter(typeof(ColumnReader), "reader");
        var destination = Expression.Parameter(typeof(T[]), "destination");
        var body = Expression.Assign(Expression.ArrayAccess(destination, Index), Read(reader, typeof(T), typeof(T).Name, [], only));
        return Expression.Lambda<Action<ColumnReader, T[], int, int>>(Loop(body), reader, destination, Start, End).Compile();
    }

    private static ParameterExpression Index { get; } = Expression.Variable(typeof(int), "i");

    private static ParameterExpression Start { get; } = Expression.Parameter(typeof(int), "start");

    private static ParameterExpression End { get; } = Expression.Parameter(typeof(int), "end");

    /// <summary><c>for (i = start; i &lt; end; i++) body;</c></summary>
    private static BlockExpression Loop(Expression body)
    {
        var done = Expression.Label("done");
        return Expression.Block(
            new[] { Index },
            Expression.Assign(Index, Start),
            Expression.Loop(
                Expression.IfThenElse(
                    Expression.LessThan(Index, End),
                    Expression.Block(body, Expression.PreIncrementAssign(Index)),
                    Expression.Break(done)),
                done));
    }

    private static Expression Write(ParameterExpression writer, Expression value, Type type, string path, HashSet<Type> open, IReadOnlyCollection<string>? only = null)
    {
        if (only is not null && (Scalars.ContainsKey(type) || type.IsEnum || Nullable.GetUnderlyingType(type) is not null))
        {
            throw new NotSupportedException($"{path} (type {type.FullName}) has no members to project: it crosses whole.");
        }

        if (Scalars.TryGetValue(type, out var scalar))
        {
            return Expression.Call(writer, typeof(ColumnWriter).GetMethod(scalar.Write)!, value);
        }

        if (type.IsEnum)
        {
            var underlying = Enum.GetUnderlyingType(type);
            return Write(writer, Expression.Convert(value, underlying), underlying, path, open);
        }

        if (Nullable.GetUnderlyingType(type) is { } inner)
        {
            var nullable = Expression.Variable(type, "nullable");
            return Expression.Block(
                new[] { nullable },
                Expression.Assign(nullable, value),
                Expression.IfThenElse(
                    Expression.Property(nullable, nameof(Nullable<int>.HasValue)),
                    Expression.Block(
                        Expression.Call(writer, WritePresence, Expression.Constant(true)),
                        Write(writer, Expression.Call(nullable, type.GetMethod(nameof(Nullable<int>.GetValueOrDefault), Type.EmptyTypes)!), inner, path, open)),
                    Expression.Call(writer, WritePresence, Expression.Constant(false))));
        }

        var shape = Composite.Of(type, path, open);
        open.Add(type);
        var local = Expression.Variable(type, "value");
        var members = shape.Chosen(only, path).Select(m => Write(writer, Expression.MakeMemberAccess(local, m), TypeOf(m), path + "." + m.Name, open)).ToList();
        open.Remove(type);
        if (type.IsValueType)
        {
            members.Insert(0, Expression.Assign(local, value));
            return Expression.Block(new[] { local }, members);
        }

        members.Insert(0, Expression.Call(writer, WritePresence, Expression.Constant(true)));
        return Expression.Block(
            new[] { local },
            Expression.Assign(local, value),
            Expression.IfThenElse(
                Expression.ReferenceEqual(local, Expression.Constant(null, type)),
                Expression.Call(writer, WritePresence, Expression.Constant(false)),
                Expression.Block(members)));
    }

    private static Expression Read(ParameterExpression reader, Type type, string path, HashSet<Type> open, IReadOnlyCollection<string>? only = null)
    {
        if (only is not null && (Scalars.ContainsKey(type) || type.IsEnum || Nullable.GetUnderlyingType(type) is not null))
        {
            throw new NotSupportedException($"{path} (type {type.FullName}) has no members to project: it crosses whole.");
        }

        if (Scalars.TryGetValue(type, out var scalar))
        {
            return Expression.Call(reader, typeof(ColumnReader).GetMethod(scalar.Read)!);
        }

        if (type.IsEnum)
        {
            return Expression.Convert(Read(reader, Enum.GetUnderlyingType(type), path, open), type);
        }

        if (Nullable.GetUnderlyingType(type) is { } inner)
        {
            return Expression.Condition(
                Expression.Call(reader, ReadPresence),
                Expression.Convert(Read(reader, inner, path, open), type),
                Expression.Default(type));
        }

        var shape = Composite.Of(type, path, open);
        open.Add(type);
        // Members are read in the order they were written, into locals, then the value is built from them. With a projection the
        // members not written keep their locals' defaults (for the constructor) or are not set (their initializers stay).
        var chosen = shape.Chosen(only, path);
        var locals = shape.Members.Select(m => Expression.Variable(TypeOf(m), m.Name)).ToArray();
        var reads = shape.Members.Select((m, i) => (Member: m, Local: locals[i])).Where(p => chosen.Contains(p.Member))
            .Select(p => (Expression)Expression.Assign(p.Local, Read(reader, TypeOf(p.Member), path + "." + p.Member.Name, open))).ToList();
        open.Remove(type);
        var arguments = locals.Take(shape.ConstructorArguments).ToArray();
        Expression created = shape.Constructor is { } constructor ? Expression.New(constructor, arguments) : Expression.New(type);
        var bindings = shape.Members.Skip(shape.ConstructorArguments).Select((m, i) => (Member: m, Local: locals[shape.ConstructorArguments + i]))
            .Where(p => chosen.Contains(p.Member)).Select(p => (MemberBinding)Expression.Bind(p.Member, p.Local)).ToArray();
        if (bindings.Length > 0)
        {
            created = Expression.MemberInit((NewExpression)created, bindings);
        }

        reads.Add(created);
        var build = Expression.Block(type, locals, reads);
        return type.IsValueType ? build : Expression.Condition(Expression.Call(reader, ReadPresence), build, Expression.Constant(null, type));
    }

    private static Type TypeOf(MemberInfo member) => member is PropertyInfo property ? property.PropertyType : ((FieldInfo)member).FieldType;

    /// <summary>A record, class or struct: the members written (the constructor's first, in its order, then the settable ones).</summary>
    private sealed record Composite(ConstructorInfo? Constructor, int ConstructorArguments, IReadOnlyList<MemberInfo> Members)
    {
        public static Composite Of(Type type, string path, HashSet<Type> open)
        {
            string? refusal = type switch
            {
                _ when open.Contains(type) => "it contains itself (a recursive type)",
                _ when type == typeof(object) => "its type is object (the codec needs the declared type of every value)",
                { IsArray: true } => "it is an array (arrays and collections are not written in binary)",
                { IsInterface: true } or { IsAbstract: true } => "its type is an interface or abstract (the codec needs the concrete type)",
                { IsPointer: true } or { IsByRef: true } => "it is a pointer",
                _ when typeof(Delegate).IsAssignableFrom(type) => "it is a delegate",
                _ when typeof(IEnumerable).IsAssignableFrom(type) => "it is a collection (arrays and collections are not written in binary)",
                { IsPrimitive: true } or { IsGenericTypeDefinition: true } => "its type is not one the codec writes",
                _ => null,
            };
            if (refusal is not null)
            {
                throw Refused(type, path, refusal);
            }

            const BindingFlags Public = BindingFlags.Public | BindingFlags.Instance;
            var properties = type.GetProperties(Public).Where(p => p.GetIndexParameters().Length == 0 && p.GetMethod is { IsPublic: true }).ToArray();
            var fields = type.GetFields(Public);
            var readable = properties.Cast<MemberInfo>().Concat(fields).OrderBy(m => m.MetadataToken).ToArray();

            // The constructor with the most parameters that all match a readable member by name (any case) and type.
            ConstructorInfo? constructor = null;
            MemberInfo[] taken = [];
            foreach (var candidate in type.GetConstructors(Public).OrderByDescending(c => c.GetParameters().Length))
            {
                var parameters = candidate.GetParameters();
                if (parameters is [{ } only] && only.ParameterType == type)
                {
                    continue; // a copy constructor
                }

                var matched = parameters.Select(p => readable.FirstOrDefault(m => string.Equals(m.Name, p.Name, StringComparison.OrdinalIgnoreCase) && TypeOf(m) == p.ParameterType)).ToArray();
                if (Array.TrueForAll(matched, m => m is not null))
                {
                    constructor = candidate;
                    taken = matched!;
                    break;
                }
            }

            if (constructor is null && !type.IsValueType)
            {
                throw Refused(type, path, "it has no public constructor whose parameters all match its public properties or fields (by name and type)");
            }

            var settable = readable.Where(m => !taken.Contains(m) && m switch
            {
                PropertyInfo p => p.SetMethod is { IsPublic: true },
                FieldInfo f => !f.IsInitOnly,
                _ => false,
            }).ToArray();
            var written = taken.Concat(settable).ToArray();
            CheckNothingLeftBehind(type, path, written);
            return new Composite(constructor is { } c && (c.GetParameters().Length > 0 || !type.IsValueType) ? c : null, taken.Length, written);
        }

        /// <summary>The members written: all of them, or the ones <paramref name="only"/> names (each must be one of them).</summary>
        /// <exception cref="NotSupportedException">A name is not a member the codec carries (a computed property, say).</exception>
        public IReadOnlyList<MemberInfo> Chosen(IReadOnlyCollection<string>? only, string path)
        {
            if (only is null)
            {
                return Members;
            }

            foreach (string name in only)
            {
                if (!Members.Any(m => m.Name == name))
                {
                    throw new NotSupportedException($"{path}.{name} is not a member the binary column codec carries (a computed property reads others): {path} crosses whole.");
                }
            }

            return [.. Members.Where(m => only.Contains(m.Name))];
        }

        /// <summary>Every instance field of the type (and its bases) must be written: a public field, or behind a written property.</summary>
        private static void CheckNothingLeftBehind(Type type, string path, MemberInfo[] written)
        {
            var names = written.Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
            for (var declaring = type; declaring is not null && declaring != typeof(object) && declaring != typeof(ValueType); declaring = declaring.BaseType)
            {
                foreach (var field in declaring.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                {
                    // Auto-properties keep their value in <Name>k__BackingField, anonymous types in <Name>i__Field.
                    string owner = field.Name.StartsWith('<') && field.Name.IndexOf('>', StringComparison.Ordinal) is > 1 and var close
                        ? field.Name[1..close]
                        : field.Name;
                    if (!names.Contains(owner))
                    {
                        throw Refused(type, path + "." + owner, field.IsPublic || owner != field.Name
                            ? "it is neither set by the type's constructor nor settable, so its value could not be restored"
                            : $"the field '{field.Name}' of {declaring.Name} is neither public nor behind a public property, so its value could not be carried");
                    }
                }
            }
        }

        private static NotSupportedException Refused(Type type, string path, string reason) =>
            new($"The binary column codec cannot write {path} (type {type.FullName}): {reason}.");
    }
}
