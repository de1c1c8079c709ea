using LinqStream.Orleans.Channels;

namespace LinqStream.Orleans.Tests.Channels;

/// <summary>
/// Calls to a <see cref="ChannelReceiver"/> as Orleans may make them: each frame is a copy (serialized), arrives after a random
/// number of thread-pool hops (so frames overtake each other), and a call may be lost before the receiver gets it, lose its answer
/// after the receiver got it, or be delivered twice.
/// </summary>
internal sealed class FlakyTransport(ChannelReceiver receiver, int seed, double lose = 0, double loseAnswer = 0, double duplicate = 0, TimeSpan? creditWait = null)
    : IChannelTransport
{
    private readonly Random _random = new(seed);
    private readonly Lock _gate = new();

    public string Name => receiver.Name;

    public int Pushes;

    public int CreditRequests;

    public int LostCalls;

    public async Task<ChannelAck> PushAsync(ChannelFrame frame)
    {
        Interlocked.Increment(ref Pushes);
        var copy = Copy(frame);
        int hops;
        double roll, answerRoll, duplicateRoll;
        lock (_gate)
        {
            hops = _random.Next(0, 6);
            roll = _random.NextDouble();
            answerRoll = _random.NextDouble();
            duplicateRoll = _random.NextDouble();
        }

        for (int i = 0; i < hops; i++)
        {
            await Task.Yield();
        }

        if (roll < lose)
        {
            Interlocked.Increment(ref LostCalls);
            throw new TimeoutException($"injected: frame {frame.Sequence} lost on the way");
        }

        var ack = receiver.Push(copy);
        if (duplicateRoll < duplicate)
        {
            _ = Task.Run(async () =>
            {
                await Task.Yield();
                receiver.Push(Copy(frame));
            });
        }

        if (answerRoll < loseAnswer)
        {
            Interlocked.Increment(ref LostCalls);
            throw new TimeoutException($"injected: the answer to frame {frame.Sequence} lost");
        }

        return ack;
    }

    public Task<ChannelAck> WaitForCreditAsync(long epoch, long sequence)
    {
        Interlocked.Increment(ref CreditRequests);
        return receiver.WaitForCreditAsync(epoch, sequence, creditWait ?? TimeSpan.FromSeconds(5));
    }

    private static ChannelFrame Copy(ChannelFrame frame) => new()
    {
        Epoch = frame.Epoch,
        Sequence = frame.Sequence,
        Kind = frame.Kind,
        Value = frame.Value,
        Count = frame.Count,
        Payload = (byte[])frame.Payload.Clone(),
    };
}
