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

    public static byte[] Write(long id, long takenAtTicks, string fingerprint, IReadOnlyList<(string Name, byte[] Data)> sections)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(Version);
            writer.Write(id);
            writer.Write(takenAtTicks);
            writer.Write(fingerprint);
            writer.Write(sections.Count);
            foreach (var (name, data) in sections)
            {
                writer.Write(name);
                writer.Write(data.Length);
                writer.Write(data);
            }
        }

        var hash = SHA256.HashData(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        buffer.Write(hash);
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
