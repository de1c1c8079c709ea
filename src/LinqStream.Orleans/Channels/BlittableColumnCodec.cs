using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LinqStream.Orleans.Channels;

/// <summary>
/// A column of an unmanaged payload type (numbers, <c>DateTime</c>, structs of them) as its memory: one copy per batch. Both
/// silos must have the same byte order and the same type layout (the same build of the job), which a cluster of one build has.
/// </summary>
/// <typeparam name="T">An unmanaged payload type.</typeparam>
internal sealed class BlittableColumnCodec<T> : IColumnCodec<T>
    where T : unmanaged
{
    /// <summary>Gets the one instance.</summary>
    public static BlittableColumnCodec<T> Instance { get; } = new();

    private BlittableColumnCodec()
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("The cross-silo channel writes columns little-endian; this machine is big-endian.");
        }
    }

    /// <inheritdoc/>
    public int GetByteCount(T[] values, int offset, int count) => count * Unsafe.SizeOf<T>();

    /// <inheritdoc/>
    public void Write(T[] values, int offset, int count, Span<byte> destination) => MemoryMarshal.AsBytes(values.AsSpan(offset, count)).CopyTo(destination);

    /// <inheritdoc/>
    public void Read(byte[] source, int offset, int length, T[] destination, int at, int count)
    {
        if (length != count * Unsafe.SizeOf<T>())
        {
            throw new InvalidDataException($"A column of {count} values of {typeof(T).Name} takes {count * Unsafe.SizeOf<T>()} bytes, not {length}.");
        }

        source.AsSpan(offset, length).CopyTo(MemoryMarshal.AsBytes(destination.AsSpan(at, count)));
    }
}
