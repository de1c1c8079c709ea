namespace LinqStream.Orleans;

/// <summary>Where a job on the cluster is in its life.</summary>
public enum JobState
{
    /// <summary>Accepted; its first activation has not started it yet.</summary>
    Submitted,

    /// <summary>Running on a silo, or about to be re-activated on another one after its silo died.</summary>
    Running,

    /// <summary>Its sources ended and every result was committed.</summary>
    Completed,

    /// <summary>Stopped by an error (the status's <see cref="JobStatus.Error"/> says which).</summary>
    Failed,

    /// <summary>Stopped by <see cref="ClusterJobHandle.CancelAsync"/>.</summary>
    Cancelled,
}
