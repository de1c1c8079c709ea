using System.Buffers.Binary;
using System.Globalization;
using LinqStream.Cli.Showcase;
using LinqStream.Connectors.Nats;
using LinqStream.Connectors.Redis;

namespace LinqStream.Cli.Operations;

/// <summary>How <c>run --checkpoints</c> and <c>linqstream checkpoints</c> describe a checkpoint and its sources' positions.</summary>
internal static class CheckpointText
{
    /// <summary>The newest checkpoint that reads back whole, as the job will choose it (damaged ones are skipped, as the job skips them).</summary>
    public static async Task<(CheckpointInfo? Info, List<string> Skipped)> NewestValidAsync(DirectoryCheckpointStore store, CancellationToken cancellationToken)
    {
        var skipped = new List<string>();
        foreach (long id in store.List())
        {
            try
            {
                return (CheckpointInfo.Read(await store.LoadAsync(id, cancellationToken).ConfigureAwait(false), store.Describe(id)), skipped);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or EndOfStreamException)
            {
                skipped.Add(ex.Message);
            }
        }

        return (null, skipped);
    }

    /// <summary>"3 sources: 12,000 events (Redis entry 1700000000000-5), ..."</summary>
    public static string Sources(CheckpointInfo info) =>
        info.Sources.Count == 0
            ? "no sources"
            : string.Join("; ", info.Sources.Select(s => $"{s.Part}: {Format.Count(s.EventsRead)} events read" + (s.Position is { } p ? $", at {Position(p)}" : "")));

    /// <summary>Decodes the positions of the sources the CLI reads (Redis, NATS, line files); any other is shown as hex.</summary>
    public static string Position(byte[] position)
    {
        // Each connector reads its own layout; the 16 bytes of LineFileSource.GetPosition are a byte offset and a line number.
        if (RedisStreamPosition.TryDescribe(position, out string? redis))
        {
            return redis;
        }

        if (NatsJetStreamPosition.TryDescribe(position, out string? nats))
        {
            return nats;
        }

        if (position.Length == 16)
        {
            return $"byte {BinaryPrimitives.ReadInt64LittleEndian(position).ToString("N0", CultureInfo.InvariantCulture)}, line {BinaryPrimitives.ReadInt64LittleEndian(position.AsSpan(8)).ToString("N0", CultureInfo.InvariantCulture)}";
        }

        return position.Length == 0 ? "the start" : "0x" + Convert.ToHexString(position);
    }

    public static string Size(long bytes) => bytes >= 1 << 20
        ? (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MB"
        : bytes >= 1 << 10 ? (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " kB" : bytes.ToString(CultureInfo.InvariantCulture) + " B";
}
