using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Text;

namespace LinqStream.Parallel;

/// <summary>
/// The 64-bit XxHash3 (seed 0) of a key's <see cref="StableKeyEncoding"/>: the same in every process and on every machine,
/// so it may decide where a key goes and in which order keys come out. A null key hashes to 0.
/// </summary>
/// <remarks>Integers, strings and other primitives take a direct path with no allocation; composite keys are written by a writer compiled once per type.</remarks>
internal static class StableKeyHash<TKey>
{
    private static readonly Action<KeyBuffer, TKey>? s_writer = IsDirect ? null : (Action<KeyBuffer, TKey>)StableKeyEncoding.BuildWriter(typeof(TKey), nested: false).Compile();

    [ThreadStatic]
    private static KeyBuffer? t_buffer;

    private static bool IsDirect =>
        typeof(TKey) == typeof(long) || typeof(TKey) == typeof(int) || typeof(TKey) == typeof(ulong) || typeof(TKey) == typeof(uint) || typeof(TKey) == typeof(string);

    /// <summary>Hashes one key.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Hash(TKey key)
    {
        Span<byte> eight = stackalloc byte[8];
        if (typeof(TKey) == typeof(long))
        {
            BinaryPrimitives.WriteInt64LittleEndian(eight, Unsafe.As<TKey, long>(ref key));
            return XxHash3.HashToUInt64(eight);
        }

        if (typeof(TKey) == typeof(ulong))
        {
            BinaryPrimitives.WriteUInt64LittleEndian(eight, Unsafe.As<TKey, ulong>(ref key));
            return XxHash3.HashToUInt64(eight);
        }

        if (typeof(TKey) == typeof(int))
        {
            BinaryPrimitives.WriteInt32LittleEndian(eight, Unsafe.As<TKey, int>(ref key));
            return XxHash3.HashToUInt64(eight[..4]);
        }

        if (typeof(TKey) == typeof(uint))
        {
            BinaryPrimitives.WriteUInt32LittleEndian(eight, Unsafe.As<TKey, uint>(ref key));
            return XxHash3.HashToUInt64(eight[..4]);
        }

        if (key is null)
        {
            return 0;
        }

        if (typeof(TKey) == typeof(string))
        {
            return HashString(Unsafe.As<TKey, string>(ref key));
        }

        var buffer = t_buffer ??= new KeyBuffer();
        buffer.Clear();
        s_writer!(buffer, key);
        return XxHash3.HashToUInt64(buffer.Span);
    }

    /// <summary>Hashes the keys of the present events of a batch (absent events get 0).</summary>
    public static void HashAll(TKey[] keys, ulong[] absent, ulong[] hashes, int count)
    {
        for (int i = 0; i < count; i++)
        {
            hashes[i] = (absent[i >> 6] & (1UL << i)) != 0 ? 0 : Hash(keys[i]);
        }
    }

    /// <summary>Writes a key's encoding (for tests and for ordering keys whose hashes collide).</summary>
    public static byte[] Encode(TKey key)
    {
        var buffer = new KeyBuffer();
        if (key is null)
        {
            return [];
        }

        if (s_writer is null)
        {
            switch (key)
            {
                case string s: buffer.WriteUtf8(s); break;
                case long n: buffer.Write(n); break;
                case ulong n: buffer.Write(n); break;
                case int n: buffer.Write(n); break;
                case uint n: buffer.Write(n); break;
            }
        }
        else
        {
            s_writer(buffer, key);
        }

        return buffer.Span.ToArray();
    }

    private static ulong HashString(string s)
    {
        int max = Encoding.UTF8.GetMaxByteCount(s.Length);
        if (max <= 512)
        {
            Span<byte> bytes = stackalloc byte[512];
            int written = Encoding.UTF8.GetBytes(s, bytes);
            return XxHash3.HashToUInt64(bytes[..written]);
        }

        var buffer = t_buffer ??= new KeyBuffer();
        buffer.Clear();
        buffer.WriteUtf8(s);
        return XxHash3.HashToUInt64(buffer.Span);
    }
}
