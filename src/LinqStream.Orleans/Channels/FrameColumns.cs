using System.Buffers;

namespace LinqStream.Orleans.Channels;

/// <summary>
/// The encoded columns of a batch frame (<see cref="EventBatchCodec{T}"/>) in an array rented from the shared
/// <see cref="ArrayPool{T}"/>: the sender's copy goes back to the pool when the receiver acknowledged the frame, the receiver's
/// copy (read off the wire by <see cref="FrameColumnsCodec"/> into a rented array) when the frame was decoded into the task's batch
/// or dropped as a copy. So a frame's bytes cost no allocation at either end once the pool is warm.
/// </summary>
/// <remarks>
/// Each side owns its own array: Orleans shares the instance when the call stays on one silo (the type is immutable to Orleans,
/// its deep copy at the call would be a third array), so a receiver that gets an instance that did not come off the wire copies it
/// into an array of its own (<see cref="TakeOwnership"/>) before it acknowledges the frame. <see cref="Return"/> is idempotent;
/// reading after it fails (<see cref="ObjectDisposedException"/>) instead of reading an array someone else now writes.
/// </remarks>
[Immutable]
internal sealed class FrameColumns
{
    /// <summary>The largest frame a receiver reads off the wire (Orleans' own message limit is 100 MB by default).</summary>
    internal const int MaxLength = 256 * 1024 * 1024;

    private byte[]? _array;

    private FrameColumns(byte[] array, int length, bool fromWire)
    {
        _array = array;
        Length = length;
        FromWire = fromWire;
    }

    /// <summary>Gets the number of bytes.</summary>
    public int Length { get; }

    /// <summary>Gets whether this instance was read off the wire (or copied for a receiver): no one else holds its array.</summary>
    public bool FromWire { get; }

    /// <summary>Gets whether the array went back to the pool.</summary>
    public bool IsReturned => Volatile.Read(ref _array) is null;

    /// <summary>Gets the bytes.</summary>
    /// <exception cref="ObjectDisposedException">The array went back to the pool.</exception>
    public ReadOnlySpan<byte> Span => (Volatile.Read(ref _array) ?? throw Returned()).AsSpan(0, Length);

    /// <summary>Gets the rented array (longer than <see cref="Length"/>): for a reader that indexes an array (the column codecs).</summary>
    /// <exception cref="ObjectDisposedException">The array went back to the pool.</exception>
    internal byte[] Array => Volatile.Read(ref _array) ?? throw Returned();

    /// <summary>Gets the bytes to write (the encoder, and the codec reading a frame off the wire).</summary>
    internal Span<byte> Writable => (Volatile.Read(ref _array) ?? throw Returned()).AsSpan(0, Length);

    /// <summary>Rents an array for <paramref name="length"/> bytes.</summary>
    public static FrameColumns Rent(int length, bool fromWire = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return new FrameColumns(length == 0 ? [] : ArrayPool<byte>.Shared.Rent(length), length, fromWire);
    }

    /// <summary>Rents an array and copies <paramref name="bytes"/> into it.</summary>
    public static FrameColumns Of(ReadOnlySpan<byte> bytes, bool fromWire = false)
    {
        var columns = Rent(bytes.Length, fromWire);
        bytes.CopyTo(columns.Writable);
        return columns;
    }

    /// <summary>The instance the receiver keeps: this one when it came off the wire, else a copy in an array of its own (the
    /// sender returns its array once the frame is acknowledged).</summary>
    public FrameColumns TakeOwnership()
    {
        if (FromWire)
        {
            return this;
        }

        var copy = Rent(Length, fromWire: true);
        Span.CopyTo(copy.Writable);
        return copy;
    }

    /// <summary>Gives the array back to the pool (once; later calls do nothing).</summary>
    public void Return()
    {
        if (Interlocked.Exchange(ref _array, null) is { Length: > 0 } array)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    private static ObjectDisposedException Returned() =>
        new(nameof(FrameColumns), "The frame's columns went back to the pool: the frame was already decoded, dropped or acknowledged.");
}
