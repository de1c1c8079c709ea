using LinqStream.Runtime.Checkpoints;

namespace LinqStream;

/// <summary>Where a job (<see cref="QueryJob{T}"/>, <see cref="ParallelSinkJob{T}"/>) finds the checkpoint it starts from.</summary>
internal static class CheckpointLoading
{
    /// <summary>
    /// The checkpoint in <see cref="JobOptions.RestoreFrom"/>, else the newest valid one in <see cref="JobOptions.Checkpoints"/>
    /// (a damaged one is skipped with a warning), else null. <paramref name="check"/> sees the one chosen (with a name for its
    /// messages) and throws when it belongs to another job: a valid checkpoint of another query is never skipped, since
    /// restoring something else would silently change the output.
    /// </summary>
    public static async Task<CheckpointFormat.Snapshot?> LoadAsync(
        JobOptions options, Action<CheckpointFormat.Snapshot, string> check, List<string> warnings, CancellationToken cancellationToken)
    {
        if (options.RestoreFrom is { } stream)
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
            const string origin = "The checkpoint in JobOptions.RestoreFrom";
            var snapshot = CheckpointFormat.Read(copy.ToArray(), origin);
            check(snapshot, origin);
            return snapshot;
        }

        if (options.Checkpoints is not { } store)
        {
            return null;
        }

        foreach (long id in store.List())
        {
            string name = store.Describe(id);
            CheckpointFormat.Snapshot snapshot;
            try
            {
                snapshot = CheckpointFormat.Read(await store.LoadAsync(id, cancellationToken).ConfigureAwait(false), name);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or EndOfStreamException)
            {
                warnings.Add(ex.Message + " Trying the previous checkpoint.");
                continue;
            }

            check(snapshot, name);
            return snapshot;
        }

        return null;
    }
}
