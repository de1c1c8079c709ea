using System.Linq.Expressions;
using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Physical.Join;
using LinqStream.Physical.Join.Spilled;
using LinqStream.Runtime;
using LinqStream.State.RocksDb;
using LinqStream.Temporal;

namespace LinqStream.Conformance.Tests.Joins;

/// <summary>
/// The spilled interval join restored at every cut: one operator (16 hot events, so events and the outer join's queue spill) is fed a
/// random schedule of batches and watermarks; after each step its state is saved (the store's checkpoint and the section), loaded into
/// a fresh operator, and the rest of the schedule fed to it: its output must equal the uninterrupted operator's from that cut on, event
/// for event and in order, and the uninterrupted output must equal the heap operator's.
/// </summary>
[Collection(RocksDbCollection.Name)]
public sealed class SpilledTemporalJoinRestoreTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "linqstream-spill-join-restore-" + Guid.NewGuid().ToString("N"));

    public sealed record Ev(long Time, long End, long Key, int Tag);

    [Theory]
    [InlineData("Inner", 1)]
    [InlineData("LeftOuter", 2)]
    [InlineData("LeftOuter", 3)]
    [InlineData("Anti", 4)]
    [InlineData("Anti", 5)]
    public void RestoredAtEveryCut_GivesTheUninterruptedOperatorsOutput(string kindName, int seed)
    {
        var kind = Enum.Parse<JoinKind>(kindName);
        var steps = Schedule(new Random(seed));
        using var factory = new RocksDbStateStoreFactory(new RocksDbStateBackend(_directory) { HotKeys = 16, CacheBytes = 1 << 20, RetainedCheckpoints = 1_000_000 });

        var heap = Run(kind, steps, 0, null, null);
        var (full, states) = RunSaving(kind, steps, factory);
        Assert.Equal(heap.Output, full);

        int spilledCuts = 0;
        for (int cut = 0; cut < steps.Count - 1; cut++)
        {
            var (state, written, spilled) = states[cut];
            spilledCuts += spilled ? 1 : 0;
            var restored = Run(kind, steps, cut + 1, factory, state);
            Assert.True(restored.Completed, $"cut after step {cut}");
            if (!full.Skip(written).SequenceEqual(restored.Output))
            {
                int at = full.Skip(written).Zip(restored.Output).TakeWhile(p => p.First == p.Second).Count();
                Assert.Fail($"cut after step {cut} of {steps.Count}: the restored operator's output differs at its result {at}: expected {full.Skip(written).ElementAtOrDefault(at)}, got {restored.Output.ElementAtOrDefault(at)}");
            }
        }

        Assert.True(spilledCuts > steps.Count / 2, $"only {spilledCuts} of {steps.Count} cuts had events in the store");
    }

    /// <summary>Batches of up to 12 events of one side in start order with ties (a 40 ms grid), lifetimes from a tick to the end of time, 30 keys and huge ones, and a watermark after each batch.</summary>
    private static List<(bool Left, Ev[]? Events, long Watermark)> Schedule(Random random)
    {
        var events = Enumerable.Range(0, 500).Select(i =>
        {
            long time = random.Next(150) * 40L;
            long life = random.Next(12) switch
            {
                0 => long.MaxValue - time,
                < 4 => 1,
                < 8 => random.Next(1, 200),
                _ => random.Next(200, 3_000),
            };
            long key = random.Next(10) == 0 ? (random.Next(2) == 0 ? long.MinValue : long.MaxValue) : random.Next(i % 2 == 0 ? 24 : 12);
            return (Left: i % 2 == 0, Event: new Ev(time, time + life, key, i));
        }).OrderBy(e => e.Event.Time).ToList();

        var steps = new List<(bool, Ev[]?, long)>();
        var watermark = new[] { long.MinValue, long.MinValue };
        for (int i = 0; i < events.Count;)
        {
            var chunk = events.Skip(i).Take(random.Next(1, 24)).ToList();
            i += chunk.Count;
            bool leftFirst = random.Next(2) == 0;
            foreach (bool left in new[] { leftFirst, !leftFirst })
            {
                var batch = chunk.Where(e => e.Left == left).Select(e => e.Event).ToArray();
                if (batch.Length > 0)
                {
                    steps.Add((left, batch, 0));
                }
            }

            foreach (bool left in new[] { leftFirst, !leftFirst })
            {
                int side = left ? 0 : 1;
                long next = events.Skip(i).Where(e => e.Left == left).Select(e => e.Event.Time).DefaultIfEmpty(long.MaxValue).First();
                if (next > watermark[side])
                {
                    watermark[side] = next;
                    steps.Add((left, null, next));
                }
            }
        }

        return steps;
    }

    private static JoinKernels<Ev, Ev, long, string> Kernels(JoinKind kind) => new(
        kind,
        kind switch { JoinKind.Inner => "Join", JoinKind.LeftOuter => "LeftJoin", _ => "WhereNotExists" },
        (Expression<Func<Ev, long>>)(e => e.Key),
        (Expression<Func<Ev, long>>)(e => e.Key),
        (Expression<Func<Ev, Ev, string>>)((l, r) => l.Tag + "/" + (r == null ? -1 : r.Tag)));

    private static (List<string> Output, List<(byte[] State, int Written, bool Spilled)> States) RunSaving(JoinKind kind, List<(bool Left, Ev[]? Events, long Watermark)> steps, RocksDbStateStoreFactory factory)
    {
        var context = new QueryContext(new QueryOptions { BatchSize = 64 }) { KeyedState = factory };
        var sink = new Sink(context);
        var join = new SpilledTemporalJoinOperator<Ev, Ev, long, string>(sink, context, Kernels(kind), factory);
        var states = new List<(byte[], int, bool)>();
        foreach (var step in steps)
        {
            Apply(step, join, context);
            using var stream = new MemoryStream();
            using (var writer = new BinaryWriter(stream))
            {
                join.WriteState(writer);
            }

            states.Add((stream.ToArray(), sink.Output.Count, join.SpilledGroups > 0));
        }

        Assert.True(sink.Completed);
        return (sink.Output, states);
    }

    private static Sink Run(JoinKind kind, List<(bool Left, Ev[]? Events, long Watermark)> steps, int from, RocksDbStateStoreFactory? factory, byte[]? state)
    {
        var context = new QueryContext(new QueryOptions { BatchSize = 64 }) { KeyedState = factory };
        var sink = new Sink(context);
        TemporalJoinOperator<Ev, Ev, long, string> join = factory is null
            ? new TemporalJoinOperator<Ev, Ev, long, string>(sink, context, Kernels(kind)) { CompactionEnabled = false }
            : new SpilledTemporalJoinOperator<Ev, Ev, long, string>(sink, context, Kernels(kind), factory);
        if (state is not null)
        {
            using var reader = new BinaryReader(new MemoryStream(state));
            join.ReadState(reader);
        }

        foreach (var step in steps.Skip(from))
        {
            Apply(step, join, context);
        }

        return sink;
    }

    private static void Apply((bool Left, Ev[]? Events, long Watermark) step, TemporalJoinOperator<Ev, Ev, long, string> join, QueryContext context)
    {
        var side = step.Left ? join.Left : join.Right;
        if (step.Events is null)
        {
            side.OnWatermark(step.Watermark);
            if (step.Watermark == long.MaxValue)
            {
                side.OnCompleted();
            }

            return;
        }

        var batch = context.Pool<Ev>().Rent();
        foreach (var e in step.Events)
        {
            batch.Add(e.Time, e.End, e);
        }

        side.OnBatch(batch);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private sealed class Sink(QueryContext context) : IStreamObserver<string>
    {
        private readonly BatchPool<string> _pool = context.Pool<string>();

        public List<string> Output { get; } = [];

        public bool Completed { get; private set; }

        public void OnBatch(EventBatch<string> batch)
        {
            for (int i = 0; i < batch.Count; i++)
            {
                if (!batch.IsAbsent(i))
                {
                    Output.Add($"{batch.Start[i]}..{batch.End[i]}:{batch.Payload[i]}");
                }
            }

            _pool.Return(batch);
        }

        public void OnWatermark(long watermark)
        {
        }

        public void OnCompleted() => Completed = true;

        public void OnError(Exception error) => throw new InvalidOperationException("the join failed", error);
    }
}
