namespace LinqStream.Orleans.Channels;

/// <summary>
/// Writes and reads a column of payloads in binary for a cross-silo channel: one call per batch, so the per-event work is the
/// codec's own loop (or a single copy), with no virtual call per event. Arrays, not spans: a codec's compiled loop indexes them.
/// </summary>
/// <typeparam name="T">The payload type.</typeparam>
internal interface IColumnCodec<T>
{
    /// <summary>Gets the number of bytes <see cref="Write"/> writes for <paramref name="count"/> values of <paramref name="values"/> from <paramref name="offset"/>.</summary>
    int GetByteCount(T[] values, int offset, int count);

    /// <summary>Writes <paramref name="count"/> values of <paramref name="values"/> from <paramref name="offset"/> into exactly <see cref="GetByteCount"/> bytes.</summary>
    void Write(T[] values, int offset, int count, Span<byte> destination);

    /// <summary>Reads <paramref name="count"/> values into <paramref name="destination"/> from <paramref name="at"/>, from bytes that take
    /// exactly <paramref name="length"/> bytes of <paramref name="source"/> from <paramref name="offset"/>.</summary>
    /// <exception cref="InvalidDataException">The bytes do not hold that many values; the message names the type and the reason.</exception>
    void Read(byte[] source, int offset, int length, T[] destination, int at, int count);
}
