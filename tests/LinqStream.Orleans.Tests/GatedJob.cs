using System.Collections.Concurrent;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Orleans.Tests;

/// <summary>
/// The job definition the cluster tests submit: q5 over bids from memory into a fenced Redis stream. The first activation (epoch 1)
/// stops reading at <c>pauseAt</c> until the test releases it, so the test can kill its silo at a known point. The silos run in the test process, so the gates are shared.
/// </summary>
public static class GatedJob
{
    public const string Name = "q5-gated";

    private static readonly ConcurrentDictionary<string, Gate> s_gates = new(StringComparer.Ordinal);

    public static Gate For(string jobId) => s_gates.GetOrAdd(jobId, _ => new Gate());

    public static JobSubmission Submission(string output, int count, int seed, int pauseAt, long checkpointEvery) => new()
    {
        Definition = Name,
        Parameters = new()
        {
            ["output"] = output,
            ["count"] = count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["seed"] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["pauseAt"] = pauseAt.ToString(System.Globalization.CultureInfo.InvariantCulture),
        },
        CheckpointEveryEvents = checkpointEvery,
        CheckpointInterval = null,
    };

    public static ClusterJobRun Create(ClusterJobContext context)
    {
        var bids = HotItems.Bids(int.Parse(context.Parameter("count"), System.Globalization.CultureInfo.InvariantCulture), int.Parse(context.Parameter("seed"), System.Globalization.CultureInfo.InvariantCulture));
        int pauseAt = int.Parse(context.Parameter("pauseAt"), System.Globalization.CultureInfo.InvariantCulture);
        var gate = For(context.JobId);
        var sink = new RedisStreamSink<HotItem>(context.Redis, context.Parameter("output"), HotItems.Json, new RedisStreamSinkOptions { Fence = context.Fence, ChunkSize = 64 });
        var query = HotItems.Over(QStream.From(Read(bids, pauseAt, gate, context.Epoch), b => b.DateTime, HotItems.Ingress));
        gate.Activated(context.Epoch);
        return context.Run(query, sink);
    }

    private static IEnumerable<Bid> Read(Bid[] bids, int pauseAt, Gate gate, long epoch)
    {
        for (int i = 0; i < bids.Length; i++)
        {
            if (i == pauseAt && epoch == 1)
            {
                gate.Pause();
            }

            yield return bids[i];
        }
    }

    public sealed class Gate
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _paused = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ConcurrentQueue<long> _epochs = new();

        /// <summary>Completes when the first activation stopped reading.</summary>
        public Task Paused => _paused.Task;

        public IReadOnlyCollection<long> Epochs => _epochs;

        public void Release() => _release.TrySetResult();

        internal void Activated(long epoch) => _epochs.Enqueue(epoch);

        internal void Pause()
        {
            _paused.TrySetResult();
            // Blocks the source's reader thread, as a stalled machine would; the rest of the job (checkpoints, status) goes on.
            _release.Task.Wait();
        }
    }
}
