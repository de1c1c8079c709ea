using LinqStream.Testing.Io;

namespace LinqStream.Tests.Runtime.Checkpoints;

/// <summary><see cref="QueryJob{T}.LastCheckpointId"/> names the checkpoint a restore would start from: one that failed before
/// it was saved does not count.</summary>
public sealed class CheckpointIdTests
{
    public sealed record Tick(long Time, int Key);

    [Fact]
    public async Task ACheckpointThatFailsBeforeItIsSaved_IsNotTheLastCheckpoint_AndTheRerunRestoresTheOneBefore()
    {
        var ticks = Enumerable.Range(0, 6_000).Select(i => new Tick(i * 10L + (i % 3), i % 7)).ToArray();
        var reference = await Query(new ArrayEventSource<Tick>(ticks, "ticks")).ToListAsync();
        var store = new FlakyStore { FailOnSave = 3 };
        var sink = new MemorySink<string>();

        await using (var job = Query(new ArrayEventSource<Tick>(ticks, "ticks") { MaxRead = 50 }).ToJob(sink, new JobOptions { Checkpoints = store, CheckpointEveryEvents = 1_000 }))
        {
            var error = await Assert.ThrowsAnyAsync<Exception>(() => job.RunAsync());
            Assert.Contains("store refused checkpoint 3", error.ToString(), StringComparison.Ordinal);
            Assert.Equal([1L, 2L], store.List().Order());
            Assert.Equal(2, job.LastCheckpointId);
        }

        store.FailOnSave = -1;
        await using (var job = Query(new ArrayEventSource<Tick>(ticks, "ticks") { MaxRead = 50 }).ToJob(sink, new JobOptions { Checkpoints = store, CheckpointEveryEvents = 1_000 }))
        {
            var result = await job.RunAsync();
            Assert.Equal(2, result.RestoredFrom);
            Assert.Equal(store.List().Max(), job.LastCheckpointId);
            Assert.True(job.LastCheckpointId > 2, $"the rerun took no checkpoint (last {job.LastCheckpointId})");
        }

        Assert.True(sink.Completed);
        Assert.Equal(reference, sink.Items);
    }

    private static IQStream<string> Query(ArrayEventSource<Tick> source) =>
        from t in QStream.From(source, t => t.Time).TumblingWindow(TimeSpan.FromTicks(1_000))
        group t by t.Key into g
        select $"{g.Window.StartTicks} {g.Key} {g.Count()}";

    /// <summary>Keeps checkpoints in memory; the save numbered <see cref="FailOnSave"/> (1-based) throws.</summary>
    private sealed class FlakyStore : CheckpointStore
    {
        private readonly Dictionary<long, byte[]> _saved = [];
        private int _saves;

        public int FailOnSave { get; set; } = -1;

        public override Task SaveAsync(long id, ReadOnlyMemory<byte> checkpoint, CancellationToken cancellationToken)
        {
            if (++_saves == FailOnSave)
            {
                throw new IOException($"store refused checkpoint {id}");
            }

            _saved[id] = checkpoint.ToArray();
            return Task.CompletedTask;
        }

        public override IReadOnlyList<long> List() => [.. _saved.Keys.OrderDescending()];

        public override Task<byte[]> LoadAsync(long id, CancellationToken cancellationToken) => Task.FromResult(_saved[id]);

        public override string Describe(long id) => $"memory checkpoint {id}";
    }
}
