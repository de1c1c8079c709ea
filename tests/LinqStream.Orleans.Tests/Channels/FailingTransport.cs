using LinqStream.Orleans.Channels;

namespace LinqStream.Orleans.Tests.Channels;

/// <summary>
/// Calls to a <see cref="ChannelReceiver"/> that fail as calls to a dead or cut-off silo do: every push fails while <see cref="Down"/>
/// is set, and the first <c>failFirst</c> pushes of each frame fail (a transient error) before one gets through.
/// </summary>
internal sealed class FailingTransport(ChannelReceiver receiver, int failFirst = 0) : IChannelTransport
{
    private readonly Dictionary<long, int> _attempts = [];
    private readonly Lock _gate = new();

    public string Name => receiver.Name;

    /// <summary>Gets or sets whether every push fails.</summary>
    public volatile bool Down;

    public int Failures;

    public Task<ChannelAck> PushAsync(ChannelFrame frame)
    {
        int attempt;
        lock (_gate)
        {
            _attempts[frame.Sequence] = attempt = _attempts.GetValueOrDefault(frame.Sequence) + 1;
        }

        if (Down || attempt <= failFirst)
        {
            Interlocked.Increment(ref Failures);
            return Task.FromException<ChannelAck>(new TimeoutException($"injected: frame {frame.Sequence}, attempt {attempt}, not answered"));
        }

        return Task.FromResult(receiver.Push(frame));
    }

    public Task<ChannelAck> WaitForCreditAsync(long epoch, long sequence) => receiver.WaitForCreditAsync(epoch, sequence, TimeSpan.FromSeconds(5));
}
