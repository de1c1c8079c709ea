using LinqStream.Runtime.Checkpoints;

namespace LinqStream;

/// <summary>What a stored checkpoint holds, read without restoring it: its id, time, size, sections and each source's position.</summary>
/// <param name="Id">The checkpoint's id.</param>
/// <param name="TakenAt">When it was taken.</param>
/// <param name="Bytes">Its size.</param>
/// <param name="Fingerprint">The fingerprint of the query that took it (its physical plan and result type).</param>
/// <param name="Sections">Each section's name and size: one per stateful part, then the sinks'.</param>
/// <param name="Sources">Each source's events read and position, in plan order.</param>
public sealed record CheckpointInfo(
    long Id, DateTimeOffset TakenAt, long Bytes, string Fingerprint, IReadOnlyList<(string Name, long Bytes)> Sections, IReadOnlyList<CheckpointSourcePosition> Sources)
{
    /// <summary>Reads and checks a checkpoint (the same checks as a restore: header, format version, SHA-256).</summary>
    /// <param name="bytes">The checkpoint.</param>
    /// <param name="origin">How to name it in messages (a file path).</param>
    /// <returns>What it holds.</returns>
    /// <exception cref="InvalidDataException">It is damaged, truncated, not a checkpoint, or in another format version; the message says which.</exception>
    public static CheckpointInfo Read(byte[] bytes, string origin)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var snapshot = CheckpointFormat.Read(bytes, origin);
        var sources = new List<CheckpointSourcePosition>();
        foreach (var (name, data) in snapshot.Sections)
        {
            // Sources write their position (EventSource only) and then the events read; see the drivers' WriteState.
            if (name.EndsWith(": EventSource", StringComparison.Ordinal))
            {
                using var reader = new BinaryReader(new MemoryStream(data, writable: false));
                int length = reader.ReadInt32();
                byte[]? position = length < 0 ? null : reader.ReadBytes(length);
                sources.Add(new CheckpointSourcePosition(name, reader.ReadInt64(), position));
            }
            else if (name.EndsWith("Source", StringComparison.Ordinal))
            {
                using var reader = new BinaryReader(new MemoryStream(data, writable: false));
                sources.Add(new CheckpointSourcePosition(name, reader.ReadInt64(), null));
            }
        }

        return new CheckpointInfo(
            snapshot.Id, new DateTimeOffset(snapshot.TakenAtTicks, TimeSpan.Zero), bytes.Length, snapshot.Fingerprint,
            [.. snapshot.Sections.Select(s => (s.Name, (long)s.Data.Length))], sources);
    }
}

/// <summary>Where one source of a checkpointed job was.</summary>
/// <param name="Part">The checkpoint section ("part 2: EventSource").</param>
/// <param name="EventsRead">Events the query had read from it.</param>
/// <param name="Position">The source's own position (<see cref="EventSource{T}.GetPosition"/>), or null for sources replayed by count.</param>
public sealed record CheckpointSourcePosition(string Part, long EventsRead, byte[]? Position);
