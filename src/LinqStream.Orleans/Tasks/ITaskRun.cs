namespace LinqStream.Orleans.Tasks;

/// <summary>A task's part of a job spread over silos, as its grain runs it: started once, polled, stopped.</summary>
internal interface ITaskRun
{
    /// <summary>Starts the task's threads.</summary>
    void Start();

    /// <summary>Gets the task's state and progress.</summary>
    TaskProgress Progress { get; }

    /// <summary>Stops the task (its threads end between two messages) and waits for them up to <paramref name="timeout"/>.</summary>
    bool Stop(TimeSpan timeout);
}

/// <summary>The source task's checkpoint side, whatever its payload and key types.</summary>
internal interface ISourceTask
{
    /// <summary>Asks for barrier <paramref name="id"/>; answered with the parts' state at it (or the final state when the input ended first).</summary>
    Task<byte[][]> BarrierAsync(long id);

    /// <summary>Gets the parts' state after the input ended.</summary>
    Task<byte[][]> FinalStateAsync();
}

/// <summary>A coordinator's run that knows where its tasks were started.</summary>
internal interface IPlacedRun
{
    /// <summary>Gets the silos the tasks were started on: the source tasks, then the keyed tasks.</summary>
    IReadOnlyList<SiloAddress> Placement { get; }
}
