using LinqStream.Orleans.Channels;

namespace LinqStream.Orleans.Tests.Channels;

/// <summary>
/// Calls to a <see cref="ChannelReceiver"/> that fail as calls to a dead or cut-off silo do: every push fails while <see cref="Down"/>
/// is set, and the first <c>failFirst</c> attempts of each call (counted by its first frame) fail (a transient error) before one
/// gets through. Frames reach the receiver as copies (<see cref="FlakyTransport.Wire"/>).
/// </summary>
internal sealed class FailingTransport(ChannelReceiver receiver, int failFirst = 0) : IChannelTransport
{
    private readonly Dictionary<long, int> _attempts = [];
    private readonly Lock _gate = new();

    public string Name => receiver.Name;

    /// <summary>Gets or sets whether every push fails.</summary>
    public volatile bool Down;

    public int Failures;

    /// <summary>The calls that got through.</summary>
    public int Delivered;

    public Task<ChannelAck> PushAsync(ChannelFrame[] frames)
    {
        int attempt;
        lock (_gate)
        {
            _attempts[frames[0].Sequence] = attempt = _attempts.GetValueOrDefault(frames[0].Sequence) + 1;
        }

        if (Down || attempt <= failFirst)
        {
            Interlocked.Increment(ref Failures);
            return Task.FromException<ChannelAck>(new TimeoutException($"injected: frame {frames[0].Sequence}, attempt {attempt}, not answered"));
        }

        Interlocked.Increment(ref Delivered);
        return Task.FromResult(receiver.Push(FlakyTransport.Wire(frames)));
    }

    public Task<ChannelAck> WaitForCreditAsync(long epoch, long sequence) => receiver.WaitForCreditAsync(epoch, sequence, TimeSpan.FromSeconds(5));
}
