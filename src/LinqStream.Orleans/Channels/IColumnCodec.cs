namespace LinqStream.Orleans.Channels;

/// <summary>
/// Writes and reads a column of payloads in binary for a cross-silo channel: one call per batch, so the per-event work is the
/// codec's own loop (or a single copy), with no virtual call per event.
/// </summary>
/// <typeparam name="T">The payload type.</typeparam>
internal interface IColumnCodec<T>
{
    /// <summary>Gets the number of bytes <see cref="Write"/> writes for <paramref name="values"/>.</summary>
    int GetByteCount(ReadOnlySpan<T> values);

    /// <summary>Writes <paramref name="values"/> into exactly <see cref="GetByteCount"/> bytes.</summary>
    void Write(ReadOnlySpan<T> values, Span<byte> destination);

    /// <summary>Reads <paramref name="destination"/>.Length values that take all of <paramref name="source"/>.</summary>
    /// <exception cref="InvalidDataException">The bytes do not hold that many values.</exception>
    void Read(ReadOnlySpan<byte> source, Span<T> destination);
}
