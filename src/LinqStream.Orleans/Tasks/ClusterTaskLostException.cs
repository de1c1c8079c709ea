namespace LinqStream.Orleans.Tasks;

/// <summary>
/// A task of a job spread over silos is gone or cannot go on (its silo died, a channel refused it, a call to it failed): the
/// coordinator rolls the whole job back to its last complete checkpoint under a new epoch.
/// </summary>
internal sealed class ClusterTaskLostException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The query of a task on another silo failed (a lambda threw, a frame could not be read); its message came in order with the data.</summary>
internal sealed class RemoteTaskException(string message) : Exception(message);
