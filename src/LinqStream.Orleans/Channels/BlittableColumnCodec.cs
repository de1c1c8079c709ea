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
    public int GetByteCount(ReadOnlySpan<T> values) => values.Length * Unsafe.SizeOf<T>();

    /// <inheritdoc/>
    public void Write(ReadOnlySpan<T> values, Span<byte> destination) => MemoryMarshal.AsBytes(values).CopyTo(destination);

    /// <inheritdoc/>
    public void Read(ReadOnlySpan<byte> source, Span<T> destination)
    {
        if (source.Length != destination.Length * Unsafe.SizeOf<T>())
        {
            throw new InvalidDataException($"A column of {destination.Length} values of {typeof(T).Name} takes {destination.Length * Unsafe.SizeOf<T>()} bytes, not {source.Length}.");
        }

        source.CopyTo(MemoryMarshal.AsBytes(destination));
    }
}
