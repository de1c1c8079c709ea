using System.Text;

namespace LinqStream.State.RocksDb;

/// <summary>
/// What one checkpoint of a RocksDB store needs: its SST files by name in the shared directory, with their sizes, and the small
/// files (CURRENT, MANIFEST, OPTIONS) inline. Written into the operator's header in the job's checkpoint file, which is hashed
/// with SHA-256, so a damaged manifest is caught with the checkpoint; a missing or truncated shared file is caught here.
/// </summary>
internal sealed record CheckpointManifest(IReadOnlyList<CheckpointManifest.SharedFile> Files, IReadOnlyList<(string Name, byte[] Data)> Inline)
{
    private const int Marker = 0x4C52_4D31; // "LRM1"

    public sealed record SharedFile(string Name, string SharedName, long Size);

    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Marker);
            writer.Write(Files.Count);
            foreach (var file in Files)
            {
                writer.Write(file.Name);
                writer.Write(file.SharedName);
                writer.Write(file.Size);
            }

            writer.Write(Inline.Count);
            foreach (var (name, data) in Inline)
            {
                writer.Write(name);
                writer.Write(data.Length);
                writer.Write(data);
            }
        }

        return stream.ToArray();
    }

    /// <summary>Reads a manifest and checks that every shared file it names is there with its size.</summary>
    /// <exception cref="InvalidDataException">The manifest is not one, or a shared file is missing or of another size.</exception>
    public static CheckpointManifest Parse(byte[] bytes, string sharedDirectory)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes, writable: false), Encoding.UTF8);
            if (reader.ReadInt32() != Marker)
            {
                throw new InvalidDataException("The RocksDB state in the checkpoint is not a LinqStream RocksDB manifest.");
            }

            int count = reader.ReadInt32();
            var files = new List<SharedFile>(count);
            for (int i = 0; i < count; i++)
            {
                var file = new SharedFile(reader.ReadString(), reader.ReadString(), reader.ReadInt64());
                var info = new FileInfo(Path.Combine(sharedDirectory, file.SharedName));
                if (!info.Exists)
                {
                    throw new InvalidDataException(
                        $"The checkpoint's RocksDB state needs '{info.FullName}', which is missing: the state directory was cleaned or belongs to " +
                        "another job. Restore from an older checkpoint or start without one.");
                }

                if (info.Length != file.Size)
                {
                    throw new InvalidDataException(
                        $"The checkpoint's RocksDB state file '{info.FullName}' has {info.Length} bytes; the checkpoint recorded {file.Size}: it is damaged.");
                }

                files.Add(file);
            }

            int inlineCount = reader.ReadInt32();
            var inline = new List<(string, byte[])>(inlineCount);
            for (int i = 0; i < inlineCount; i++)
            {
                string name = reader.ReadString();
                inline.Add((name, reader.ReadBytes(reader.ReadInt32())));
            }

            return new CheckpointManifest(files, inline);
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException("The RocksDB manifest in the checkpoint is truncated.", ex);
        }
    }
}
