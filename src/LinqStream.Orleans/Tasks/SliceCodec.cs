using LinqStream.Runtime.Checkpoints;

namespace LinqStream.Orleans.Tasks;

/// <summary>
/// A keyed task's key groups at a barrier (<see cref="KeyGroupSlice"/>) as bytes, so they travel to the coordinator with the
/// barrier in the task's output channel; the coordinator puts the slices of every task into one section, as a job on one
/// machine does. With several source tasks the keyed task's union state at the barrier (what it holds of their events, not yet
/// folded in) follows the slice: 32-bit length, then the bytes.
/// </summary>
internal static class SliceCodec
{
    private const int Marker = 0x4B47_5431; // "KGT1"

    public static byte[] Write(KeyGroupSlice slice) => Write(slice, null);

    /// <summary>Writes the slice and, after it, <paramref name="union"/> (the keyed task's union state), when there is one.</summary>
    public static byte[] Write(KeyGroupSlice slice, byte[]? union)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer))
        {
            writer.Write(Marker);
            writer.Write(slice.First);
            writer.Write(slice.End);
            writer.Write(slice.Header.Length);
            writer.Write(slice.Header);
            for (int i = 0; i < slice.End - slice.First; i++)
            {
                writer.Write(slice.Counts[i]);
                writer.Write(checked((int)slice.Groups[i].Length));
                writer.Flush();
                slice.Groups[i].WriteTo(buffer);
            }

            if (union is not null)
            {
                writer.Write(union.Length);
                writer.Write(union);
            }
        }

        return buffer.ToArray();
    }

    /// <exception cref="InvalidDataException">The bytes are not a slice (names <paramref name="origin"/>).</exception>
    public static KeyGroupSlice Read(byte[] data, string origin) => Read(data, origin, out _);

    /// <summary>Reads a slice and the union state written after it (null when there is none).</summary>
    /// <exception cref="InvalidDataException">The bytes are not a slice, or what follows it is not one length-prefixed state (names <paramref name="origin"/>).</exception>
    public static KeyGroupSlice Read(byte[] data, string origin, out byte[]? union)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(data, writable: false));
            if (reader.ReadInt32() != Marker)
            {
                throw new InvalidDataException($"The state {origin} sent is not a slice of key groups.");
            }

            int first = reader.ReadInt32();
            int end = reader.ReadInt32();
            if (first < 0 || end < first)
            {
                throw new InvalidDataException($"The state {origin} sent has the key group range [{first}, {end}).");
            }

            var header = reader.ReadBytes(reader.ReadInt32());
            var counts = new int[end - first];
            var groups = new SectionBuffer[end - first];
            for (int i = 0; i < counts.Length; i++)
            {
                counts[i] = reader.ReadInt32();
                int length = reader.ReadInt32();
                var bytes = reader.ReadBytes(length);
                if (bytes.Length != length)
                {
                    throw new EndOfStreamException();
                }

                groups[i] = SectionBuffer.Wrap(bytes);
            }

            union = null;
            if (reader.BaseStream.Position < data.Length)
            {
                int length = reader.ReadInt32();
                long left = data.Length - reader.BaseStream.Position;
                if (length < 0 || length > left)
                {
                    throw new InvalidDataException($"The state {origin} sent says its union state has {length} bytes; {left} are left.");
                }

                union = reader.ReadBytes(length);
                if (reader.BaseStream.Position != data.Length)
                {
                    throw new InvalidDataException($"The state {origin} sent has {data.Length - reader.BaseStream.Position} bytes after its union state.");
                }
            }

            return new KeyGroupSlice(first, end, header, counts, groups);
        }
        catch (EndOfStreamException error)
        {
            throw new InvalidDataException($"The state {origin} sent ends early ({data.Length} bytes).", error);
        }
    }
}
