using System.Collections.Concurrent;

namespace LinqStream.Orleans.Tests;

/// <summary>
/// A checkpoint store that stalls (what <c>LinqStreamSiloOptions.CheckpointStoreBelowLimit</c> puts under a job's write limit on
/// every silo of the test cluster): for a job with a plan, the job's n-th write (whatever its epoch: on a loaded machine an ordinary
/// write may pass the limit first and roll the job back) never finishes until it is cancelled; every other write and read goes to the
/// job's Redis store, and the plan records what was stored and which checkpoint the job read back first after the stall.
/// Jobs without a plan write straight through.
/// </summary>
public static class StallingCheckpoints
{
    private static readonly ConcurrentDictionary<string, Plan> s_plans = new(StringComparer.Ordinal);

    /// <summary>Stalls the <paramref name="write"/>-th checkpoint write (1-based) of <paramref name="jobId"/>.</summary>
    public static Plan StallWrite(string jobId, int write) => s_plans.GetOrAdd(jobId, _ => new Plan(write));

    internal static CheckpointStore Wrap(string jobId, CheckpointStore store) =>
        s_plans.TryGetValue(jobId, out var plan) ? new Stalling(store, plan) : store;

    public sealed class Plan(int write)
    {
        private readonly TaskCompletionSource<long> _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<long> _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ConcurrentQueue<(long Epoch, long Id)> _stored = new();
        private int _writes;
        private long _stalledEpoch = long.MaxValue;
        private long _newestAtStall = -1;
        private long _firstLoadAfterStall = -1;

        /// <summary>Gets the epoch of the stalled write.</summary>
        public long StalledEpoch => Interlocked.Read(ref _stalledEpoch);

        /// <summary>Gets the newest checkpoint in the store when the write stalled (0: none).</summary>
        public long NewestAtStall => Interlocked.Read(ref _newestAtStall);

        /// <summary>Gets the checkpoint a later epoch read back first after the stall (-1: none yet).</summary>
        public long FirstLoadAfterStall => Interlocked.Read(ref _firstLoadAfterStall);

        /// <summary>Gets the id of the checkpoint whose write stalled, once it did.</summary>
        public Task<long> Stalled => _stalled.Task;

        /// <summary>Gets the id of the stalled write, once the job gave up on it (cancelled it).</summary>
        public Task<long> Cancelled => _cancelled.Task;

        /// <summary>Gets the writes that reached the store, in order: (epoch, checkpoint id).</summary>
        public IReadOnlyCollection<(long Epoch, long Id)> Stored => _stored;

        internal async Task SaveAsync(CheckpointStore store, long epoch, long id, ReadOnlyMemory<byte> checkpoint, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _writes) == write)
            {
                Interlocked.Exchange(ref _newestAtStall, _stored.IsEmpty ? 0 : _stored.Max(s => s.Id));
                Interlocked.Exchange(ref _stalledEpoch, epoch);
                _stalled.TrySetResult(id);
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    _cancelled.TrySetResult(id);
                    throw;
                }
            }

            await store.SaveAsync(id, checkpoint, cancellationToken).ConfigureAwait(false);
            _stored.Enqueue((epoch, id));
        }

        internal Task<byte[]> LoadAsync(CheckpointStore store, long epoch, long id, CancellationToken cancellationToken)
        {
            if (epoch > StalledEpoch)
            {
                Interlocked.CompareExchange(ref _firstLoadAfterStall, id, -1);
            }

            return store.LoadAsync(id, cancellationToken);
        }
    }

    private sealed class Stalling(CheckpointStore inner, Plan plan) : CheckpointStore
    {
        private readonly long _epoch = (inner as RedisCheckpointStore)?.Fence?.Epoch ?? 0;

        public override Task SaveAsync(long id, ReadOnlyMemory<byte> checkpoint, CancellationToken cancellationToken) =>
            plan.SaveAsync(inner, _epoch, id, checkpoint, cancellationToken);

        public override IReadOnlyList<long> List() => inner.List();

        public override Task<byte[]> LoadAsync(long id, CancellationToken cancellationToken) => plan.LoadAsync(inner, _epoch, id, cancellationToken);

        public override string Describe(long id) => inner.Describe(id);
    }
}
