using LinqStream.Orleans.Channels;

namespace LinqStream.Orleans.Tasks;

/// <summary>
/// One task of a job spread over silos (the source task, a keyed task), or the merge's channel endpoint on the coordinator's silo.
/// The key is <c>{job}/{epoch}/{task}</c>: every epoch's tasks are new activations, placed where the coordinator asks. The grain
/// is also the receiving end of its task's input channels, so frames arrive on the silo where the task runs.
/// </summary>
[Alias("LinqStream.Orleans.ITaskGrain")]
internal interface ITaskGrain : IGrainWithStringKey
{
    /// <summary>Opens input channel <paramref name="channel"/> of this grain for <paramref name="epoch"/>.</summary>
    /// <returns>The silo the frames arrive at.</returns>
    [Alias("Open")]
    Task<SiloAddress> OpenAsync(string channel, long epoch, int capacity);

    /// <summary>Takes frames of consecutive sequence numbers of channel <paramref name="channel"/> (one call, one cumulative acknowledgement).</summary>
    [Alias("PushFrames")]
    Task<ChannelAck> PushAsync(string channel, ChannelFrame[] frames);

    /// <summary>Answers when frame <paramref name="sequence"/> may be sent, or after a few seconds with the current credit.</summary>
    [Alias("WaitForCredit")]
    Task<ChannelAck> WaitForCreditAsync(string channel, long epoch, long sequence);

    /// <summary>Builds this task's part of the job's query from its definition, restores its state and starts it.</summary>
    /// <returns>The silo it runs on.</returns>
    /// <remarks>Up to a minute (the coordinator's limit for the starts), not Orleans' default 30 s: building a script job's query
    /// compiles its script, which took longer than 30 s on a loaded machine (the job then rolled back before it ran).</remarks>
    [Alias("Start")]
    [ResponseTimeout("00:01:00")]
    Task<SiloAddress> StartAsync(TaskSpec spec);

    /// <summary>The source task: sends checkpoint barrier <paramref name="id"/> after the data before it, and answers with its parts' state at the barrier (or its final state when its input ended first).</summary>
    [Alias("Barrier")]
    Task<byte[][]> BarrierAsync(long epoch, long id);

    /// <summary>The source task: its parts' state after its input ended.</summary>
    [Alias("FinalState")]
    Task<byte[][]> FinalStateAsync(long epoch);

    /// <summary>Gets the task's state for <paramref name="epoch"/> (<see cref="TaskRunState.NotRunning"/> when it runs nothing for it).</summary>
    [Alias("Progress")]
    Task<TaskProgress> ProgressAsync(long epoch);

    /// <summary>Stops the task of <paramref name="epoch"/> and closes its channels.</summary>
    [Alias("Stop")]
    Task StopAsync(long epoch);
}

/// <summary>A channel's frames as calls to the receiving task's grain.</summary>
internal sealed class TaskChannelTransport(ITaskGrain endpoint, string channel) : IChannelTransport
{
    /// <inheritdoc/>
    public string Name { get; } = $"{endpoint.GetPrimaryKeyString()}/{channel}";

    /// <inheritdoc/>
    public Task<ChannelAck> PushAsync(ChannelFrame[] frames) => endpoint.PushAsync(channel, frames);

    /// <inheritdoc/>
    public Task<ChannelAck> WaitForCreditAsync(long epoch, long sequence) => endpoint.WaitForCreditAsync(channel, epoch, sequence);
}
