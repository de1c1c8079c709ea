using System.Security.Cryptography;
using System.Text;

namespace LinqStream.Runtime.Checkpoints;

/// <summary>
/// The checkpoint file: <c>LSQCKPT\0</c>, the format version, the checkpoint id, the time it was taken, the query's fingerprint,
/// then named sections (one per stateful part of the plan, one per sink), and a SHA-256 of everything before it.
/// </summary>
internal static class CheckpointFormat
{
    /// <summary>The format version. 2: sums and averages keep exact 128-bit integer sums with their running range, and
    /// floating-point sums their count and overflow flag (issue #14), so version-1 accumulators do not read. 3: a keyed window
    /// aggregate's state is written per key group (<see cref="KeyGroupedSection"/>), so it restores at any parallelism (issue #16).</summary>
    public const int Version = 3;

    private static readonly byte[] Magic = "LSQCKPT\0"u8.ToArray();

    /// <summary>
    /// Streams a checkpoint into <paramref name="output"/>: the header, each section's name, length and bytes, then the SHA-256 of all
    /// of it, computed as the bytes go out; nothing but the sections themselves is held in memory.
    /// </summary>
    /// <returns>The number of bytes written.</returns>
    public static async Task<long> WriteAsync(
        Stream output, long id, long takenAtTicks, string fingerprint, IReadOnlyList<(string Name, SectionBuffer Data)> sections, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long written = 0;
        using var header = new MemoryStream();
        using (var writer = new BinaryWriter(header, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(Version);
            writer.Write(id);
            writer.Write(takenAtTicks);
            writer.Write(fingerprint);
            writer.Write(sections.Count);
        }

        written += await WriteHeaderAsync(header).ConfigureAwait(false);
        foreach (var (name, data) in sections)
        {
            if (data.Length > int.MaxValue)
            {
                throw new InvalidOperationException($"The checkpoint section '{name}' is {data.Length:N0} bytes; a section holds at most 2 GB.");
            }

            header.SetLength(0);
            using (var writer = new BinaryWriter(header, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(name);
                writer.Write((int)data.Length);
            }

            written += await WriteHeaderAsync(header).ConfigureAwait(false);
            await data.CopyToAsync(output, hash, cancellationToken).ConfigureAwait(false);
            written += data.Length;
        }

        var digest = hash.GetHashAndReset();
        await output.WriteAsync(digest, cancellationToken).ConfigureAwait(false);
        return written + digest.Length;

        async Task<long> WriteHeaderAsync(MemoryStream bytes)
        {
            var span = bytes.GetBuffer().AsMemory(0, (int)bytes.Length);
            hash.AppendData(span.Span);
            await output.WriteAsync(span, cancellationToken).ConfigureAwait(false);
            return span.Length;
        }
    }

    /// <summary>A whole checkpoint as one array (tests and small checkpoints; a job streams it with <see cref="WriteAsync"/>).</summary>
    public static byte[] Write(long id, long takenAtTicks, string fingerprint, IReadOnlyList<(string Name, byte[] Data)> sections)
    {
        using var buffer = new MemoryStream();
        WriteAsync(buffer, id, takenAtTicks, fingerprint, [.. sections.Select(s => (s.Name, SectionBuffer.Wrap(s.Data)))], CancellationToken.None).GetAwaiter().GetResult();
        return buffer.ToArray();
    }

    /// <summary>Reads and checks a checkpoint; a damaged, truncated or foreign file throws <see cref="InvalidDataException"/> with the reason.</summary>
    public static Snapshot Read(byte[] bytes, string origin)
    {
        if (bytes.Length < Magic.Length + 4 + 32 || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{origin} is not a LinqStream checkpoint (no LSQCKPT header, {bytes.Length} bytes).");
        }

        int version = BitConverter.ToInt32(bytes, Magic.Length);
        if (version != Version)
        {
            throw new InvalidDataException($"{origin} was written in checkpoint format version {version}; this LinqStream reads version {Version}.");
        }

        var body = bytes.AsSpan(0, bytes.Length - 32);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - 32)))
        {
            throw new InvalidDataException($"{origin} is damaged or truncated: its SHA-256 does not match its contents.");
        }

        using var reader = new BinaryReader(new MemoryStream(bytes, 0, bytes.Length - 32, writable: false), Encoding.UTF8);
        reader.ReadBytes(Magic.Length + 4);
        long id = reader.ReadInt64();
        long taken = reader.ReadInt64();
        string fingerprint = reader.ReadString();
        int count = reader.ReadInt32();
        var sections = new List<(string, byte[])>(count);
        for (int i = 0; i < count; i++)
        {
            string name = reader.ReadString();
            int length = reader.ReadInt32();
            sections.Add((name, reader.ReadBytes(length)));
        }

        return new Snapshot(id, taken, fingerprint, sections);
    }

    /// <summary>Identifies a query: the same physical plan over the same types gives the same fingerprint.</summary>
    public static string Fingerprint(string physicalPlan, Type resultType) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(physicalPlan + "\n=> " + resultType.FullName)))[..32];

    internal sealed record Snapshot(long Id, long TakenAtTicks, string Fingerprint, IReadOnlyList<(string Name, byte[] Data)> Sections);
}
