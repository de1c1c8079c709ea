using System.Collections.Concurrent;

namespace LinqStream.Orleans.Channels;

/// <summary>
/// The receivers open on this silo, by endpoint and channel: the endpoint grain puts frames in, the task that consumes them
/// (on the same silo) takes them out. A silo that dies loses them, and a sender then gets <see cref="ChannelAckStatus.NotOpen"/>
/// from the endpoint's next activation: the state loss is seen, never skipped.
/// </summary>
internal sealed class ChannelHub(TimeProvider time)
{
    private readonly ConcurrentDictionary<(string Endpoint, string Channel), ChannelReceiver> _receivers = new();

    /// <summary>Gets the clock of the receivers' waits.</summary>
    public TimeProvider Time { get; } = time;

    /// <summary>Opens a channel for an epoch: a receiver of an older epoch is replaced, one of the same epoch is kept.</summary>
    /// <exception cref="InvalidOperationException">The channel is open for a newer epoch.</exception>
    public ChannelReceiver Open(string endpoint, string channel, long epoch, int capacity)
    {
        while (true)
        {
            if (_receivers.TryGetValue((endpoint, channel), out var current))
            {
                if (current.Epoch == epoch)
                {
                    return current;
                }

                if (current.Epoch > epoch)
                {
                    throw new InvalidOperationException($"Channel '{endpoint}/{channel}' is open for epoch {current.Epoch}; epoch {epoch} is older and cannot open it.");
                }

                var replacement = new ChannelReceiver($"{endpoint}/{channel}", epoch, capacity, Time);
                if (_receivers.TryUpdate((endpoint, channel), replacement, current))
                {
                    return replacement;
                }
            }
            else
            {
                var created = new ChannelReceiver($"{endpoint}/{channel}", epoch, capacity, Time);
                if (_receivers.TryAdd((endpoint, channel), created))
                {
                    return created;
                }
            }
        }
    }

    /// <summary>Hands a call's frames to the channel's receiver; <see cref="ChannelAckStatus.NotOpen"/> when it is not open here (its columns go back to the pool).</summary>
    public ChannelAck Push(string endpoint, string channel, ChannelFrame[] frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        if (Find(endpoint, channel) is { } receiver)
        {
            return receiver.Push(frames);
        }

        ChannelReceiver.Discard(frames);
        return new ChannelAck(ChannelAckStatus.NotOpen, 0, 0, 0);
    }

    /// <summary>Finds an open channel.</summary>
    public ChannelReceiver? Find(string endpoint, string channel) => _receivers.GetValueOrDefault((endpoint, channel));

    /// <summary>Closes a channel (its task ended).</summary>
    public void Close(string endpoint, string channel) => _receivers.TryRemove((endpoint, channel), out _);
}
