using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace LinqStream.Connectors.Nats;

/// <summary>Reads the positions a <see cref="NatsJetStreamSource{T}"/> writes into checkpoints, for tools that list checkpoints.</summary>
public static class NatsJetStreamPosition
{
    /// <summary>Describes a position a JetStream source wrote (<c>NATS sequence 42</c>), or says it is not one.</summary>
    /// <param name="position">The bytes of <see cref="NatsJetStreamSource{T}.GetPosition"/>, as a checkpoint keeps them.</param>
    /// <param name="text">The description.</param>
    /// <returns>True when <paramref name="position"/> is a JetStream position.</returns>
    public static bool TryDescribe(byte[] position, [NotNullWhen(true)] out string? text)
    {
        ArgumentNullException.ThrowIfNull(position);
        text = NatsJetStreamSource<object>.TryReadPosition(position, out ulong sequence, out _)
            ? string.Create(CultureInfo.InvariantCulture, $"NATS sequence {sequence}")
            : null;
        return text is not null;
    }
}
