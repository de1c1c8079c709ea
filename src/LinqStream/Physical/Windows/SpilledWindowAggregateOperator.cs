using LinqStream.Physical.Aggregate;
using LinqStream.Runtime;
using LinqStream.Runtime.Checkpoints;
using LinqStream.Runtime.State;
using LinqStream.Temporal;

namespace LinqStream.Physical.Windows;

/// <summary>
/// What the spilled window aggregates (sessions: <see cref="Session.SpilledSessionWindowAggregateOperator{T, TKey, TResult}"/>;
/// tumbling and hopping: <see cref="SpilledFixedWindowAggregateOperator{T, TKey, TResult}"/>) share: their store, their hot-key
/// budget, and their checkpoint — the store's checkpoint begun at the cut, the hot state's records (at the cut, or off the query's
/// thread with a copy-on-write cut), a header of (watermark, spilled groups, the store's manifest), and the restore of both.
/// </summary>
internal abstract class SpilledWindowAggregateOperator<T, TKey, TResult> : WindowAggregateOperator<T, TKey, TResult>, ICheckpointWarmup
    where TKey : notnull
{
    protected SpilledWindowAggregateOperator(
        IStreamObserver<TResult> downstream,
        QueryContext context,
        WindowSpec window,
        Action<T[], ulong[]?, TKey[], int> keyKernel,
        AggregatePlan<T, TKey, TResult> plan,
        string description,
        IKeyedStateStoreFactory stores,
        string storeName)
        : base(downstream, context, window, keyKernel, plan, description)
    {
        HotKeys = Math.Max(16, stores.HotKeys);
        KeyGroupCount = context.Options.KeyGroups;
        Store = stores.Create(storeName);
    }

    /// <summary>Gets the store (tests, progress).</summary>
    internal IKeyedStateStore Store { get; }

    /// <summary>Gets how many groups (sessions, or (window, key) groups) the heap holds before a sweep spills the coldest.</summary>
    protected int HotKeys { get; }

    /// <summary>Gets the job's number of key groups (the first two bytes of every store key).</summary>
    protected int KeyGroupCount { get; }

    public sealed override KeyGroupSlice WriteKeyGroups(int first, int end, int keyGroups)
    {
        // The store's checkpoint starts here and finishes off this thread (its flush is the slow part); the manifest goes into the
        // header when the checkpoint file is written, so the task goes on with its next batch meanwhile (docs/state.md). So does the
        // writing of the hot state when the cut is copy on write; otherwise its records are written here, at the cut.
        Store.Commit();
        return Slice(first, end, keyGroups, Store.BeginCheckpoint());
    }

    /// <summary>The cut's code over the state as it is, with an empty manifest instead of the store's checkpoint, kept nowhere: the
    /// first checkpoint does not pay its first run in the query's pause (<see cref="ICheckpointWarmup"/>).</summary>
    public void WarmCheckpointPath()
    {
        int groups = Context.Options.KeyGroups;
        var slice = Slice(0, groups, groups, Task.FromResult(Array.Empty<byte>()));
        KeyGroupedSection.Write(BinaryWriter.Null, groups, [slice]);
    }

    /// <summary>The records of the hot state at the cut, each into the writer of its key group.</summary>
    /// <returns>The records' writer, and whether it runs later, off the query's thread, after the store's second part (a
    /// copy-on-write cut: the state it reads is frozen until then).</returns>
    protected abstract (Action<Func<int, BinaryWriter>> Write, bool Later) CutRecords(int keyGroups);

    /// <summary>Loads the store from the manifests in the headers of key groups [<paramref name="first"/>, <paramref name="end"/>) and
    /// takes their watermark; the records are the caller's to read.</summary>
    protected void RestoreStore(KeyGroupedSection section, int first, int end)
    {
        long watermark = Ticks.MinusInfinity;
        var manifests = new List<byte[]>();
        foreach (var header in section.HeadersOver(first, end))
        {
            using var reader = new BinaryReader(new MemoryStream(header, writable: false));
            watermark = Math.Max(watermark, reader.ReadInt64());
            _ = reader.ReadInt64(); // the spilled groups then: counted again from the restored store
            manifests.Add(reader.ReadBytes(reader.ReadInt32()));
        }

        Store.Restore(manifests, first, end);
        LastWatermark = watermark;
    }

    /// <summary>The slice of the hot state at the cut; its header ends with <paramref name="manifest"/>, the store's checkpoint.</summary>
    private KeyGroupSlice Slice(int first, int end, int keyGroups, Task<byte[]> manifest)
    {
        var (writeRecords, later) = CutRecords(keyGroups);
        long watermark = LastWatermark, spilled = SpilledGroups;
        return KeyGroupSlice.Build(
            first,
            end,
            header =>
            {
                header.Write(watermark);
                header.Write(spilled);
            },
            writeRecords,
            completeHeader: header =>
            {
                byte[] bytes = manifest.GetAwaiter().GetResult();
                header.Write(bytes.Length);
                header.Write(bytes);
            },
            ready: manifest,
            recordsLater: later);
    }
}
