using System.Reflection;
using System.Runtime.CompilerServices;

namespace LinqStream.Parallel.TwoPhase;

/// <summary>
/// Types whose values are equal only when they are the same value (two-phase aggregation relies on it): merging partials in
/// another order than parallelism 1 folded the events in then cannot change which of two "equal" values wins.
/// </summary>
/// <remarks>
/// Not exact: <see cref="double"/> and <see cref="float"/> (0.0 equals -0.0), <see cref="decimal"/> (1.0 equals 1.00),
/// <see cref="DateTime"/> (equal ticks, other kinds), <see cref="DateTimeOffset"/> (equal instants, other offsets), and classes
/// with reference equality (two equal-looking keys stay two groups, ordered by when each was first seen).
/// </remarks>
internal static class ExactTypes
{
    private static readonly HashSet<Type> s_values =
    [
        typeof(bool), typeof(char), typeof(sbyte), typeof(byte), typeof(short), typeof(ushort), typeof(int), typeof(uint),
        typeof(long), typeof(ulong), typeof(nint), typeof(nuint), typeof(Int128), typeof(UInt128), typeof(Guid),
        typeof(TimeSpan), typeof(DateOnly), typeof(TimeOnly),
    ];

    /// <summary>Whether <paramref name="type"/> is a value whose equal values are identical (an aggregate's input).</summary>
    public static bool IsExactValue(Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        return underlying.IsEnum || s_values.Contains(underlying);
    }

    /// <summary>
    /// Whether keys of <paramref name="type"/> that are equal are identical: exact values, strings (ordinal), and tuples,
    /// anonymous types and records made of them.
    /// </summary>
    public static bool IsExactKey(Type type) => IsExactKey(type, depth: 0);

    private static bool IsExactKey(Type type, int depth)
    {
        if (depth > 8)
        {
            return false;
        }

        if (type == typeof(string) || IsExactValue(type))
        {
            return true;
        }

        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying.IsGenericType && underlying.FullName is { } name
            && (name.StartsWith("System.ValueTuple`", StringComparison.Ordinal) || name.StartsWith("System.Tuple`", StringComparison.Ordinal)))
        {
            return underlying.GetGenericArguments().All(t => IsExactKey(t, depth + 1));
        }

        bool anonymous = underlying.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false) && underlying.Name.Contains("AnonymousType", StringComparison.Ordinal);
        bool record = underlying.GetMethod("PrintMembers", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public) is not null;
        if (!anonymous && !record)
        {
            return false;
        }

        return underlying.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic).All(f => IsExactKey(f.FieldType, depth + 1));
    }
}
