using System.Buffers.Binary;
using System.Collections.Concurrent;
using LinqStream.Testing.Nexmark;
using Microsoft.Extensions.DependencyInjection;

namespace LinqStream.Orleans.Tests.Tasks;

/// <summary>
/// The job definition the spread-over-silos tests submit: q5's shape over bids from a replayable in-memory source into a fenced
/// Redis stream. In epoch 1 the source stops giving events at <c>pauseAt</c> (it answers "nothing yet", as a live source does, so
/// checkpoint barriers still go through) until the test releases it. Every silo records what it built the job for, so a test can
/// see where the tasks ran (the silos run in the test process). With <c>partitions</c> the bids are read as that many partitions
/// (bid i in partition i mod n, each with its own reorder ingress, q5 over their union), each holding back at its share of <c>pauseAt</c>.
/// </summary>
public static class SpreadJob
{
    public const string Name = "q5-spread";

    private static readonly ConcurrentDictionary<string, Gate> s_gates = new(StringComparer.Ordinal);

    /// <summary>Gets what each silo built: (job, epoch, task, silo).</summary>
    public static ConcurrentQueue<(string Job, long Epoch, string Task, SiloAddress Silo)> Builds { get; } = new();

    public static Gate For(string jobId) => s_gates.GetOrAdd(jobId, _ => new Gate());

    public static JobSubmission Submission(string output, int count, int seed, int pauseAt, long checkpointEvery, int parallelism, int partitions = 0) => new()
    {
        Definition = Name,
        Parameters = new()
        {
            ["output"] = output,
            ["count"] = count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["seed"] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["pauseAt"] = pauseAt.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["partitions"] = partitions.ToString(System.Globalization.CultureInfo.InvariantCulture),
        },
        CheckpointEveryEvents = checkpointEvery,
        // Also by time: while the source holds back, checkpoints go on (events alone would stop them at the pause).
        CheckpointInterval = TimeSpan.FromMilliseconds(250),
        Parallelism = parallelism,
    };

    public static ClusterJobRun Create(ClusterJobContext context)
    {
        var bids = HotItems.Bids(int.Parse(context.Parameter("count"), System.Globalization.CultureInfo.InvariantCulture), int.Parse(context.Parameter("seed"), System.Globalization.CultureInfo.InvariantCulture));
        int pauseAt = int.Parse(context.Parameter("pauseAt"), System.Globalization.CultureInfo.InvariantCulture);
        Builds.Enqueue((context.JobId, context.Epoch, context.TaskName, context.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress));
        int partitions = int.Parse(context.Parameter("partitions"), System.Globalization.CultureInfo.InvariantCulture);
        var sink = new RedisStreamSink<HotItem>(context.Redis, context.Parameter("output"), HotItems.Json, new RedisStreamSinkOptions { Fence = context.Fence, ChunkSize = 64 });
        if (partitions > 0)
        {
            var gated = Partition(bids, partitions)
                .Select((p, k) => (EventSource<Bid>)new GatedBids(p, context.Epoch == 1 ? pauseAt / partitions : -1, For(context.JobId), $"memory://gated-bids-{k}"))
                .ToArray();
            return context.Run(HotItems.Over(QStream.From(gated, b => b.DateTime, HotItems.Ingress)), sink);
        }

        var source = new GatedBids(bids, context.Epoch == 1 ? pauseAt : -1, For(context.JobId));
        return context.Run(HotItems.Over(QStream.From(source, b => b.DateTime, HotItems.Ingress)), sink);
    }

    /// <summary>The name of <see cref="CreateOnRocksDb"/>: the same job with its keyed state in RocksDB.</summary>
    public const string OnRocksDbName = "q5-spread-rocksdb";

    /// <summary>The submission of <see cref="CreateOnRocksDb"/>: <paramref name="count"/> bids, keyed state under <paramref name="state"/> (a directory per silo task).</summary>
    public static JobSubmission OnRocksDbSubmission(string output, int count, int seed, string state, int? parallelism) => Submission(output, count, seed, -1, 1_000, parallelism ?? 1) with
    {
        Definition = OnRocksDbName,
        Parameters = new()
        {
            ["output"] = output,
            ["count"] = count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["seed"] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["state"] = state,
        },
        Parallelism = parallelism,
    };

    /// <summary>
    /// q5 over the bids with its keyed state in RocksDB (<c>JobOptions.State</c>), each task's job under a directory of its own. No public
    /// member asks for that (<see cref="ClusterJobContext.Run{T}"/> binds the query with the context's options, which have no state
    /// backend), so this definition binds the job itself, as one that found a way around it would.
    /// </summary>
    public static ClusterJobRun CreateOnRocksDb(ClusterJobContext context)
    {
        var bids = HotItems.Bids(int.Parse(context.Parameter("count"), System.Globalization.CultureInfo.InvariantCulture), int.Parse(context.Parameter("seed"), System.Globalization.CultureInfo.InvariantCulture));
        Builds.Enqueue((context.JobId, context.Epoch, context.TaskName, context.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress));
        var sink = new RedisStreamSink<HotItem>(context.Redis, context.Parameter("output"), HotItems.Json, new RedisStreamSinkOptions { Fence = context.Fence, ChunkSize = 64 });
        var state = new LinqStream.State.RocksDb.RocksDbStateBackend(Path.Combine(context.Parameter("state"), $"{context.Epoch}-{context.TaskName}")) { HotKeys = 16 };
        var query = HotItems.Over(QStream.From(new GatedBids(bids, -1, For(context.JobId)), b => b.DateTime, HotItems.Ingress));
        var job = query.ToJob(sink, context.Options with { State = state });
        return new ClusterJobRun(token => job.RunAsync(token), () => job.LastCheckpointId, job, job.Guarantee, job.GuaranteeReason, []);
    }

    /// <summary>Bid i in partition i mod <paramref name="partitions"/>, in order.</summary>
    public static Bid[][] Partition(Bid[] bids, int partitions) =>
        [.. Enumerable.Range(0, partitions).Select(k => bids.Where((_, i) => i % partitions == k).ToArray())];

    /// <summary>What one process computes over the partitions (q5 over their union, each with its own ingress), serialized as the sink writes it.</summary>
    public static Task<List<string>> PartitionedReferenceAsync(Bid[] bids, int partitions)
    {
        var sources = Partition(bids, partitions).Select((p, k) => (EventSource<Bid>)new LinqStream.Testing.Io.ArrayEventSource<Bid>(p, $"memory://gated-bids-{k}")).ToArray();
        return HotItems.SerializeAsync(HotItems.Over(QStream.From(sources, b => b.DateTime, HotItems.Ingress)));
    }

    public sealed class Gate
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _paused = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when the source of epoch 1 reached its pause.</summary>
        public Task Paused => _paused.Task;

        public Task Released => _release.Task;

        public void Release() => _release.TrySetResult();

        internal void Pause() => _paused.TrySetResult();
    }

    /// <summary>The bids as a replayable source (its position is the next index); it holds back from <c>pauseAt</c> until released.</summary>
    private sealed class GatedBids(Bid[] bids, int pauseAt, Gate gate, string name = "memory://gated-bids") : EventSource<Bid>
    {
        private int _next;

        public override string Name => name;

        public override bool CanReplay => true;

        public override ValueTask OpenAsync(SourceContext context, byte[]? position, CancellationToken cancellationToken)
        {
            _next = position is null ? 0 : BinaryPrimitives.ReadInt32LittleEndian(position);
            return ValueTask.CompletedTask;
        }

        public override async ValueTask<SourceRead> ReadAsync(Memory<Bid> buffer, CancellationToken cancellationToken)
        {
            if (_next >= bids.Length)
            {
                return SourceRead.Completed;
            }

            int end = Math.Min(bids.Length, _next + buffer.Length);
            if (pauseAt >= 0 && _next <= pauseAt && !gate.Released.IsCompleted)
            {
                if (_next == pauseAt)
                {
                    gate.Pause();
                    // Nothing yet: the engine goes on with watermarks and barriers and asks again.
                    await Task.WhenAny(gate.Released, Task.Delay(20, cancellationToken)).ConfigureAwait(false);
                    return SourceRead.Idle;
                }

                end = Math.Min(end, pauseAt);
            }

            bids.AsSpan(_next, end - _next).CopyTo(buffer.Span);
            int count = end - _next;
            _next = end;
            return new SourceRead(count, false);
        }

        public override byte[] GetPosition()
        {
            var position = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(position, _next);
            return position;
        }
    }
}
