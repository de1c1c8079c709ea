using LinqStream.Orleans.Channels;

namespace LinqStream.Orleans.Tests.Channels;

/// <summary>
/// Calls to a <see cref="ChannelReceiver"/> as Orleans may make them: each call's frames are copies (serialized: their columns in
/// arrays of the receiver's, <see cref="Wire"/>), a call arrives after a random number of thread-pool hops (so calls overtake each
/// other), and a call may be lost before the receiver gets it, lose its answer after the receiver got it, or be delivered twice.
/// </summary>
internal sealed class FlakyTransport(ChannelReceiver receiver, int seed, double lose = 0, double loseAnswer = 0, double duplicate = 0, TimeSpan? creditWait = null)
    : IChannelTransport
{
    private readonly Random _random = new(seed);
    private readonly Lock _gate = new();

    public string Name => receiver.Name;

    /// <summary>The calls made (retries included).</summary>
    public int Pushes;

    /// <summary>The frames those calls carried.</summary>
    public int FramesPushed;

    public int CreditRequests;

    public int LostCalls;

    public async Task<ChannelAck> PushAsync(ChannelFrame[] frames)
    {
        Interlocked.Increment(ref Pushes);
        Interlocked.Add(ref FramesPushed, frames.Length);
        var copy = Wire(frames);
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
            ChannelReceiver.Discard(copy);
            throw new TimeoutException($"injected: frames {frames[0].Sequence} to {frames[^1].Sequence} lost on the way");
        }

        var ack = receiver.Push(copy);
        if (duplicateRoll < duplicate)
        {
            var again = Wire(frames);
            _ = Task.Run(async () =>
            {
                await Task.Yield();
                receiver.Push(again);
            });
        }

        if (answerRoll < loseAnswer)
        {
            Interlocked.Increment(ref LostCalls);
            throw new TimeoutException($"injected: the answer to frames {frames[0].Sequence} to {frames[^1].Sequence} lost");
        }

        return ack;
    }

    public Task<ChannelAck> WaitForCreditAsync(long epoch, long sequence)
    {
        Interlocked.Increment(ref CreditRequests);
        return receiver.WaitForCreditAsync(epoch, sequence, creditWait ?? TimeSpan.FromSeconds(5));
    }

    /// <summary>What the receiving silo gets: new frames, their columns read off the wire into arrays of its own (as <c>FrameColumnsCodec</c> does).</summary>
    public static ChannelFrame[] Wire(ChannelFrame[] frames) => [.. frames.Select(frame => new ChannelFrame
    {
        Epoch = frame.Epoch,
        Sequence = frame.Sequence,
        Kind = frame.Kind,
        Value = frame.Value,
        WatermarkAfter = frame.WatermarkAfter,
        Count = frame.Count,
        Payload = (byte[])frame.Payload.Clone(),
        Columns = frame.Columns is { } columns ? FrameColumns.Of(columns.Span, fromWire: true) : null,
    })];
}
