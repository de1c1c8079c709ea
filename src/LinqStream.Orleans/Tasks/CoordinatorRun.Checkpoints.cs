using LinqStream.Parallel;
using LinqStream.Physical.Union;
using LinqStream.Runtime.Checkpoints;

namespace LinqStream.Orleans.Tasks;

/// <summary>The coordinator's part in the job's checkpoints: it asks the source tasks for barrier n, collects the keyed tasks' slices (and union states) and the source tasks' parts, writes the sections in parallelism 1's form, and splits a checkpoint again for the current tasks on restore.</summary>
internal sealed partial class CoordinatorRun<T, TKey, TResult>
{
    // ---- IParallelCheckpoint ----

    public string AggregateName => _aggregateName;

    public IReadOnlyList<string> SourcePartNames => _sourceNames;

    public bool IsAligned => Merge.IsAligned;

    public TimeSpan LastAlignment => Merge.LastAlignment;

    public bool HasEnded => Merge.IsCompleted;

    // The source tasks count their late events; they are not carried over yet (docs/cluster.md, limits).
    public IEnumerable<Runtime.Ingress.LateEventCounts> LateEventCounts => [];

    public void RequestBarrier(long id)
    {
        Array.Clear(_slices);
        _barrierId = id;
        _barrier = [.. _sourceTasks.Select(s => s.BarrierAsync(_setup.Epoch, id))];
    }

    public void ReleaseBarrier() => Merge.ReleaseBarrier();

    public (byte[] Aggregate, byte[][] Sources) StateAtBarrier()
    {
        var slices = new (KeyGroupSlice Slice, UnionState<T>? Union)[_slices.Length];
        for (int t = 0; t < slices.Length; t++)
        {
            slices[t] = Merge.IsAligned && _slices[t] is { } at && at.Id == _barrierId
                ? (at.Slice, at.Union)
                : throw new InvalidOperationException($"Checkpoint barrier {_barrierId} has not come back from {TaskSpec.TaskName(t)} of job '{_setup.JobId}' yet.");
        }

        var barrier = _barrier ?? throw new InvalidOperationException("No checkpoint barrier was requested.");
        return (WriteAggregate(slices), WriteSources([.. barrier.Select(Wait)], slices));
    }

    public (byte[] Aggregate, byte[][] Sources) StateAtEnd()
    {
        var slices = new (KeyGroupSlice Slice, UnionState<T>? Union)[_finalSlices.Length];
        for (int t = 0; t < slices.Length; t++)
        {
            slices[t] = _finalSlices[t] ?? throw new InvalidOperationException($"{TaskSpec.TaskName(t)} of job '{_setup.JobId}' has not sent its final state.");
        }

        return (WriteAggregate(slices), WriteSources([.. _sourceTasks.Select(s => Wait(s.FinalStateAsync(_setup.Epoch)))], slices));
    }

    public void Restore(byte[] aggregate, IReadOnlyList<byte[]> sources)
    {
        if (sources.Count != _sourceNames.Length)
        {
            throw new InvalidDataException($"The checkpoint has {sources.Count} parts below the aggregate; job '{_setup.JobId}' has {_sourceNames.Length}.");
        }

        // Each keyed task loads the key groups of its range from the whole section (at any parallelism); each source task its parts.
        _restoreAggregate = aggregate;
        if (!_partitioned)
        {
            _restoreSources = [[.. sources]];
            return;
        }

        // The union over all partitions, as parallelism 1 has it: each source task gets its group's share, then its own parts; the
        // keyed tasks' unions start empty with the watermark already sent (the source tasks send again what they held).
        UnionState<T> union;
        using (var reader = new BinaryReader(new MemoryStream(sources[0], writable: false)))
        {
            union = (UnionState<T>)StateCodec.Read(reader, typeof(UnionState<T>))!;
        }

        if (union.Inputs.Count != _inputCount)
        {
            throw new InvalidDataException($"The checkpoint's union has {union.Inputs.Count} inputs; job '{_setup.JobId}' reads {_inputCount}.");
        }

        var shares = new byte[_sourceTasks.Length][][];
        int next = 1;
        for (int s = 0; s < shares.Length; s++)
        {
            var share = new byte[1 + _sourceParts[s]][];
            share[0] = Encode(CanonicalUnion.SourceShare(union, s, shares.Length));
            for (int i = 1; i < share.Length; i++)
            {
                share[i] = sources[next++];
            }

            shares[s] = share;
        }

        _restoreSources = shares;
        _restoreUnionWatermark = _sourceTasks.Length > 1 ? union.OutputWatermark : null;
    }


    private byte[][] Wait(Task<byte[][]> call)
    {
        int which = Task.WaitAny([call, _lost.Task], CallLimit);
        if (which == 0)
        {
            try
            {
                return call.GetAwaiter().GetResult();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A source task's silo died (found by this call before the poll), or its grain was activated again without the
                // run ("not the running source task"): the state cannot come, so the task is lost and the job rolls back (at most
                // JobActivation.MaxRollbacks times in a row, then it is recorded Failed with this reason).
                throw new ClusterTaskLostException($"A source task of job '{_setup.JobId}' (epoch {_setup.Epoch}) did not send its state: {ex.Message}", ex);
            }
        }

        throw which == 1
            ? _lost.Task.Result
            : new ClusterTaskLostException($"A source task of job '{_setup.JobId}' (epoch {_setup.Epoch}) did not send its state within {CallLimit.TotalSeconds} s.");
    }

    private byte[] WriteAggregate((KeyGroupSlice Slice, UnionState<T>? Union)[] slices)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer))
        {
            KeyGroupedSection.Write(writer, _keyGroups, [.. slices.Select(s => s.Slice)]);
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// The parts below the aggregate as parallelism 1 has them: one source task's parts as they are; with a union of partitions,
    /// the union over all of them (the source tasks' unions and what the keyed tasks' unions held), then each source task's parts.
    /// </summary>
    private byte[][] WriteSources(byte[][][] parts, (KeyGroupSlice Slice, UnionState<T>? Union)[] tasks)
    {
        if (!_partitioned)
        {
            return parts[0];
        }

        var unions = new UnionState<T>[parts.Length];
        for (int s = 0; s < parts.Length; s++)
        {
            if (parts[s].Length != 1 + _sourceParts[s])
            {
                throw new InvalidDataException($"{TaskSpec.SourceName(s, parts.Length)} of job '{_setup.JobId}' sent {parts[s].Length} parts; it has {1 + _sourceParts[s]}.");
            }

            using var reader = new BinaryReader(new MemoryStream(parts[s][0], writable: false));
            unions[s] = (UnionState<T>)StateCodec.Read(reader, typeof(UnionState<T>))!;
        }

        var union = CanonicalUnion.Combine<T>(unions, [.. tasks.Select(t => t.Union)]);
        return [Encode(union), .. parts.SelectMany(p => p.Skip(1))];
    }

    /// <summary>A keyed task's union state sent with its barrier or completion (null: one source task, no union).</summary>
    private static UnionState<T>? ReadUnion(byte[]? bytes, string origin)
    {
        if (bytes is null)
        {
            return null;
        }

        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes, writable: false));
            return (UnionState<T>)StateCodec.Read(reader, typeof(UnionState<T>))!;
        }
        catch (Exception ex) when (ex is EndOfStreamException or InvalidCastException or InvalidDataException)
        {
            throw new InvalidDataException($"The union state {origin} sent cannot be read: {ex.Message}", ex);
        }
    }

    private static byte[] Encode(UnionState<T> union)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer))
        {
            StateCodec.Write(writer, union, typeof(UnionState<T>));
        }

        return buffer.ToArray();
    }
}
