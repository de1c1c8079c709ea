using System.Runtime.CompilerServices;

namespace LinqStream.Runtime.Tables;

/// <summary>How a <see cref="KeySlotTable{TKey, THasher}"/> hashes and compares its keys, resolved when the JIT compiles the table (no virtual call).</summary>
/// <remarks>
/// The hash is an in-memory hash for one process's table: it is never persisted, never routes a key and never orders output
/// (stable key hashes do that: <see cref="Parallel.StableKeyHash{TKey}"/>).
/// </remarks>
internal interface IKeyHasher<TKey>
{
    /// <summary>Gets a value indicating whether the open-addressing table serves this key type; otherwise the table is a <see cref="Dictionary{TKey, TValue}"/>.</summary>
    static abstract bool IsSupported { get; }

    /// <summary>A 64-bit hash whose top bits are well mixed (the table indexes by the top bits).</summary>
    static abstract ulong Hash(TKey key);

    /// <summary>Whether two keys are equal, as the key type's own equality says.</summary>
    static abstract bool Equal(TKey a, TKey b);
}

/// <summary>
/// Keys whose equality is the equality of their bits: the integer types, <see cref="char"/>, <see cref="bool"/>, <see cref="Guid"/> and
/// enums over them. Not <see cref="double"/>/<see cref="float"/> (0.0 equals -0.0), not <see cref="DateTime"/> (its kind bits are not
/// compared), not nullable types or other structs (their equality is their own): those keep a <see cref="Dictionary{TKey, TValue}"/>.
/// </summary>
internal readonly struct PrimitiveKeyHasher<TKey> : IKeyHasher<TKey>
{
    // Fibonacci hashing: the product's top bits depend on every bit of the key (sequential ids spread over the whole table).
    internal const ulong Golden = 0x9E3779B97F4A7C15UL;

    private static readonly bool s_supported = ComputeSupported();

    public static bool IsSupported
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => s_supported;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Hash(TKey key)
    {
        if (Unsafe.SizeOf<TKey>() == 8)
        {
            return Unsafe.As<TKey, ulong>(ref key) * Golden;
        }

        if (Unsafe.SizeOf<TKey>() == 4)
        {
            return Unsafe.As<TKey, uint>(ref key) * Golden;
        }

        if (Unsafe.SizeOf<TKey>() == 2)
        {
            return Unsafe.As<TKey, ushort>(ref key) * Golden;
        }

        if (Unsafe.SizeOf<TKey>() == 1)
        {
            return Unsafe.As<TKey, byte>(ref key) * Golden;
        }

        // 16 bytes (Guid).
        ulong low = Unsafe.As<TKey, ulong>(ref key);
        ulong high = Unsafe.Add(ref Unsafe.As<TKey, ulong>(ref key), 1);
        return (low * Golden) ^ (((high << 32) | (high >> 32)) * 0xC2B2AE3D27D4EB4FUL);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Equal(TKey a, TKey b)
    {
        if (Unsafe.SizeOf<TKey>() == 8)
        {
            return Unsafe.As<TKey, ulong>(ref a) == Unsafe.As<TKey, ulong>(ref b);
        }

        if (Unsafe.SizeOf<TKey>() == 4)
        {
            return Unsafe.As<TKey, uint>(ref a) == Unsafe.As<TKey, uint>(ref b);
        }

        if (Unsafe.SizeOf<TKey>() == 2)
        {
            return Unsafe.As<TKey, ushort>(ref a) == Unsafe.As<TKey, ushort>(ref b);
        }

        if (Unsafe.SizeOf<TKey>() == 1)
        {
            return Unsafe.As<TKey, byte>(ref a) == Unsafe.As<TKey, byte>(ref b);
        }

        return Unsafe.As<TKey, ulong>(ref a) == Unsafe.As<TKey, ulong>(ref b)
            && Unsafe.Add(ref Unsafe.As<TKey, ulong>(ref a), 1) == Unsafe.Add(ref Unsafe.As<TKey, ulong>(ref b), 1);
    }

    private static bool ComputeSupported()
    {
        var type = typeof(TKey);
        if (type.IsEnum)
        {
            type = Enum.GetUnderlyingType(type);
        }

        return type == typeof(long) || type == typeof(ulong) || type == typeof(int) || type == typeof(uint)
            || type == typeof(short) || type == typeof(ushort) || type == typeof(byte) || type == typeof(sbyte)
            || type == typeof(char) || type == typeof(bool) || type == typeof(nint) || type == typeof(nuint)
            || type == typeof(Guid);
    }
}
