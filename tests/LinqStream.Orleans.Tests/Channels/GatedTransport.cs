using LinqStream.Orleans.Channels;

namespace LinqStream.Orleans.Tests.Channels;

/// <summary>
/// Calls to a <see cref="ChannelReceiver"/> that wait until the test decides what happens to each: delivered and answered, lost
/// before the receiver gets it, delivered with its answer lost, or delivered twice. Frames reach the receiver as copies
/// (<see cref="FlakyTransport.Wire"/>), or, with <c>sameSilo</c>, as Orleans passes them to a grain on the same silo: new frame
/// objects whose columns are the sender's own instance.
/// </summary>
internal sealed class GatedTransport(ChannelReceiver receiver, bool sameSilo = false) : IChannelTransport
{
    private readonly Lock _gate = new();
    private readonly List<Pending> _calls = [];

    public string Name => receiver.Name;

    /// <summary>Gets the number of calls made so far (retries included).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _calls.Count;
            }
        }
    }

    /// <summary>Gets the sequences of the frames of call <paramref name="index"/>.</summary>
    public long[] Sequences(int index)
    {
        lock (_gate)
        {
            return [.. _calls[index].Frames.Select(f => f.Sequence)];
        }
    }

    /// <summary>Gets or sets whether calls are delivered and answered as they are made (no test decides).</summary>
    public bool DeliverAtOnce { get; set; }

    /// <summary>Gets the copies the receiver got (or would have got), to check that their columns went back to the pool.</summary>
    public List<ChannelFrame> Copies { get; } = [];

    public Task<ChannelAck> PushAsync(ChannelFrame[] frames)
    {
        var pending = new Pending(Copy(frames, record: true), Copy(frames, record: false));
        if (DeliverAtOnce)
        {
            pending.Take();
            return Task.FromResult(receiver.Push(pending.Frames));
        }

        lock (_gate)
        {
            _calls.Add(pending);
        }

        return pending.Answer.Task;
    }

    public Task<ChannelAck> WaitForCreditAsync(long epoch, long sequence) => receiver.WaitForCreditAsync(epoch, sequence, TimeSpan.FromSeconds(5));

    /// <summary>Delivers call <paramref name="index"/> and answers it with the receiver's acknowledgement.</summary>
    public ChannelAck Deliver(int index)
    {
        var call = Take(index);
        var ack = receiver.Push(call.Frames);
        call.Answer.SetResult(ack);
        return ack;
    }

    /// <summary>Delivers call <paramref name="index"/> and answers it with <paramref name="answer"/> instead (a receiver that breaks the protocol).</summary>
    public void DeliverAnswering(int index, Func<ChannelAck, ChannelAck> answer)
    {
        var call = Take(index);
        call.Answer.SetResult(answer(receiver.Push(call.Frames)));
    }

    /// <summary>Call <paramref name="index"/> is lost on the way: the receiver never gets it, the sender's call fails.</summary>
    public void Lose(int index)
    {
        var call = Take(index);
        ChannelReceiver.Discard(call.Frames);
        call.Answer.SetException(new TimeoutException($"injected: call {index} lost on the way"));
    }

    /// <summary>Call <paramref name="index"/> reaches the receiver but its answer is lost: the sender's call fails.</summary>
    public void LoseAnswer(int index)
    {
        var call = Take(index);
        receiver.Push(call.Frames);
        call.Answer.SetException(new TimeoutException($"injected: the answer to call {index} lost"));
    }

    /// <summary>Delivers call <paramref name="index"/> once more (a duplicate Orleans delivered late; once per call); its answer goes nowhere.</summary>
    public ChannelAck DeliverCopy(int index)
    {
        ChannelFrame[] frames;
        lock (_gate)
        {
            frames = _calls[index].Spare;
            Copies.AddRange(frames);
        }

        return receiver.Push(frames);
    }

    private Pending Take(int index)
    {
        lock (_gate)
        {
            var call = _calls[index];
            return call.Taken ? throw new InvalidOperationException($"Call {index} was already decided.") : call.Take();
        }
    }

    private ChannelFrame[] Copy(ChannelFrame[] frames, bool record)
    {
        var copies = sameSilo
            ? [.. frames.Select(f => new ChannelFrame { Epoch = f.Epoch, Sequence = f.Sequence, Kind = f.Kind, Value = f.Value, WatermarkAfter = f.WatermarkAfter, Count = f.Count, Payload = f.Payload, Columns = f.Columns })]
            : FlakyTransport.Wire(frames);
        if (record)
        {
            lock (_gate)
            {
                Copies.AddRange(copies);
            }
        }

        return copies;
    }

    private sealed class Pending(ChannelFrame[] frames, ChannelFrame[] spare)
    {
        public ChannelFrame[] Frames { get; } = frames;

        /// <summary>A second copy made at the call, for a duplicate delivered later (Orleans serialized both before anything was acknowledged).</summary>
        public ChannelFrame[] Spare { get; } = spare;

        public TaskCompletionSource<ChannelAck> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Taken { get; private set; }

        public Pending Take()
        {
            Taken = true;
            return this;
        }
    }
}
