using System.Diagnostics.CodeAnalysis;

namespace LinqStream.Connectors.Redis;

/// <summary>Reads the positions a <see cref="RedisStreamSource{T}"/> writes into checkpoints, for tools that list checkpoints.</summary>
public static class RedisStreamPosition
{
    /// <summary>Describes a position a Redis stream source wrote (<c>Redis entry 1700000000000-5</c>), or says it is not one.</summary>
    /// <param name="position">The bytes of <see cref="RedisStreamSource{T}.GetPosition"/>, as a checkpoint keeps them.</param>
    /// <param name="text">The description.</param>
    /// <returns>True when <paramref name="position"/> is a Redis stream position.</returns>
    public static bool TryDescribe(byte[] position, [NotNullWhen(true)] out string? text)
    {
        ArgumentNullException.ThrowIfNull(position);
        text = RedisEntryId.TryFromPosition(position, out var id, out _) ? $"Redis entry {id}" : null;
        return text is not null;
    }
}
