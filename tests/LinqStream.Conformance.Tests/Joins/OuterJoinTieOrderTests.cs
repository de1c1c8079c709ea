using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Physical.Join.Spilled;
using LinqStream.State.RocksDb;
using LinqStream.Testing.Io;
using static LinqStream.Conformance.Tests.Joins.SpilledIntervalJoinTests;

namespace LinqStream.Conformance.Tests.Joins;

/// <summary>
/// The left-outer and anti interval joins give their results in the order of docs/semantics.md §8 — a function of the input alone —
/// however the input is cut into batches and read (batch sizes, how many events a source hands out per read, so where watermarks
/// fall), on the heap and on RocksDB. The order is computed here by LINQ to objects over the whole input: by start; at one start
/// the pairs first, in the order the join makes them (the later event of the pair in the join's merged order — by start, a left
/// event before a right one, then each input's order — meeting its key's earlier events newest first), then the unmatched left
/// events in their order. Until 2026-12-05 a pair held back behind an undecided left event came after an unmatched left result with
/// the same start, and whether it was held back depended on when the join last pumped its queue (a round's watermark): the restored
/// left-outer job of <see cref="SpilledIntervalJoinTests"/> wrote such a tie the other way round.
/// </summary>
[Collection(RocksDbCollection.Name)]
public sealed class OuterJoinTieOrderTests : IDisposable
{
    private static readonly TimeSpan Disorder = TimeSpan.FromMilliseconds(700);
    private static readonly long Origin = new DateTime(2026, 3, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
    private static readonly long Step = 100 * TimeSpan.TicksPerMillisecond;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "linqstream-outer-ties-" + Guid.NewGuid().ToString("N"));

    /// <summary>(batch size, left source's events per read, right source's): one event at a time, small and uneven reads, one batch.</summary>
    private static readonly (int Batch, int LeftRead, int RightRead)[] Cuttings =
    [
        (1, 1, 1),
        (7, 3, 97),
        (7, 97, 3),
        (64, 50, 5),
        (4096, int.MaxValue, int.MaxValue),
    ];

    public static TheoryData<int, bool> Seeds() => new() { { 1, false }, { 2, true }, { 3, true }, { 4, false }, { 5, true } };

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task LeftOuter_AtEveryBatchingAndReadSize_GivesTheResultsInTheOrderOfSection8(int seed, bool disordered)
    {
        var (lefts, rights) = Generate(seed, disordered, 1_600);
        var expected = OrderedReference(lefts, rights);
        AssertTiesBetweenPairsAndUnmatched(expected);

        var random = new Random(seed);
        foreach (var (batch, leftRead, rightRead) in Cuttings.Append((random.Next(1, 200), random.Next(1, 200), random.Next(1, 200))))
        {
            var actual = await LeftOuter(lefts, rights, disordered, batch, leftRead, rightRead).ToListAsync();
            AssertSameInOrder(expected, actual, $"batch {batch}, reads {leftRead}/{rightRead}");
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task Anti_AtEveryBatchingAndReadSize_GivesTheUnmatchedLeftEventsInTheirOrder(int seed, bool disordered)
    {
        var (lefts, rights) = Generate(seed, disordered, 1_600);
        var expected = OrderedReference(lefts, rights).Where(p => p.RightTag < 0).Select(p => p.LeftTag).ToList();
        Assert.True(expected.Count > 50 && expected.Count < lefts.Length, $"{expected.Count} of {lefts.Length} left events unmatched");

        var random = new Random(seed);
        foreach (var (batch, leftRead, rightRead) in Cuttings.Append((random.Next(1, 200), random.Next(1, 200), random.Next(1, 200))))
        {
            var actual = await Anti(lefts, rights, disordered, batch, leftRead, rightRead).ToListAsync();
            Assert.True(expected.SequenceEqual(actual.Select(l => l.Tag)), $"batch {batch}, reads {leftRead}/{rightRead}: the anti join's order differs");
        }
    }

    [Theory]
    [InlineData(1, false, 7, 3, 97)]
    [InlineData(2, true, 64, 50, 5)]
    [InlineData(3, true, 1, 1, 1)]
    public async Task LeftOuterAndAnti_OnRocksDb_GiveTheResultsInTheOrderOfSection8(int seed, bool disordered, int batch, int leftRead, int rightRead)
    {
        var (lefts, rights) = Generate(seed, disordered, 1_600);
        var expected = OrderedReference(lefts, rights);
        long spilledBefore = Interlocked.Read(ref SpilledTemporalJoinCounters.EventsSpilled);

        var outer = await RunOnRocksDb(LeftOuter(lefts, rights, disordered, batch, leftRead, rightRead), "outer" + seed);
        var anti = await RunOnRocksDb(Anti(lefts, rights, disordered, batch, leftRead, rightRead), "anti" + seed);

        AssertSameInOrder(expected, outer, "RocksDB, left outer");
        Assert.Equal(expected.Where(p => p.RightTag < 0).Select(p => p.LeftTag), anti.Select(l => l.Tag));
        Assert.True(Interlocked.Read(ref SpilledTemporalJoinCounters.EventsSpilled) - spilledBefore > 16, "no live event was written to RocksDB");
    }

    [Fact]
    public async Task LeftOuter_ATieOfAPairAndAnUnmatchedLeftEvent_ThePairComesFirstWhateverIsUndecidedBefore()
    {
        // At 10: C (key 1, alive to 100) is undecided until R (key 1, at 20) matches it. At 30: B (key 2) meets R2 (key 2, alive
        // since 25) and A (key 3) meets nothing and ends at 31; D at 50 and R3 at 40 meet nothing (they move the watermarks past 30).
        // With R and B in one round (one batch per input: the first round's watermark is 40) C is still queued when B comes, so B's
        // pair is held back; with a watermark between them (a batch per event) the round's pump has taken C out and B's pair goes out
        // at once. Both must give B's pair before A's unmatched result (until 2026-12-05 the first gave A first).
        Iv[] lefts = [new(Origin + 10, 90, 1, 0), new(Origin + 30, 5, 2, 1), new(Origin + 30, 1, 3, 2), new(Origin + 50, 1, 8, 3)];
        Iv[] rights = [new(Origin + 20, 1, 1, 10), new(Origin + 25, 20, 2, 11), new(Origin + 40, 1, 9, 12)];
        var expected = OrderedReference(lefts, rights);
        Assert.Equal([(0, 10), (1, 11), (2, -1), (3, -1)], expected.Select(p => (p.LeftTag, p.RightTag)));

        foreach (var (batch, leftRead, rightRead) in Cuttings)
        {
            AssertSameInOrder(expected, await LeftOuter(lefts, rights, false, batch, leftRead, rightRead).ToListAsync(), $"batch {batch}, reads {leftRead}/{rightRead}");
        }
    }

    /// <summary>
    /// Random events of both sides with many ties: times on a 100 ms grid (about four events per step), keys from 30 small ones and
    /// the extremes of <c>long</c>, lifetimes that are points, a few ticks, one to four steps, 10 s or up to the end of time.
    /// </summary>
    private static (Iv[] Lefts, Iv[] Rights) Generate(int seed, bool disordered, int count)
    {
        var random = new Random(seed);
        var events = new List<(int Side, Iv Event)>(count);
        for (int i = 0; i < count; i++)
        {
            long time = Origin + (random.Next(count / 4) * Step);
            long life = random.Next(25) switch
            {
                0 => long.MaxValue - time,
                < 10 => 1,
                < 13 => random.Next(1, 10),
                < 23 => random.Next(1, 5) * Step,
                _ => 100 * Step,
            };
            events.Add((random.Next(2), new Iv(time, life, RandomInput.Key(random, 10, RandomInput.HugeKeys, 30), i)));
        }

        var ordered = events.OrderBy(e => e.Event.Time).ToList();
        if (disordered)
        {
            ordered = RandomInput.Disordered(ordered, e => e.Event.Time, Disorder.Ticks, random);
        }

        return ([.. ordered.Where(e => e.Side == 0).Select(e => e.Event)], [.. ordered.Where(e => e.Side == 1).Select(e => e.Event)]);
    }

    /// <summary>
    /// The left-outer join's results in the order of docs/semantics.md §8, by LINQ to objects: each input reaches the join in start
    /// order with ties in arrival order (a stable sort); a pair is made by its later event in the merged order (start, left before
    /// right, input order) and starts with it; results by start, then pairs before unmatched left events; pairs by the event that
    /// made them, then the earlier event newest first; unmatched left events in their order.
    /// </summary>
    internal static List<IPair> OrderedReference(Iv[] lefts, Iv[] rights)
    {
        var l = lefts.OrderBy(e => e.Time).ToArray();
        var r = rights.OrderBy(e => e.Time).ToArray();
        var rightsByKey = Enumerable.Range(0, r.Length).ToLookup(j => r[j].Key);
        var rows = new List<(long Start, int Unmatched, (long, int, int) Later, (long, int, int) Earlier, IPair Result)>();
        for (int i = 0; i < l.Length; i++)
        {
            var left = (l[i].Time, 0, i);
            bool matched = false;
            foreach (int j in rightsByKey[l[i].Key])
            {
                if (l[i].Time < r[j].End && r[j].Time < l[i].End)
                {
                    matched = true;
                    var right = (r[j].Time, 1, j);
                    var (later, earlier) = Comparer<(long, int, int)>.Default.Compare(left, right) > 0 ? (left, right) : (right, left);
                    rows.Add((later.Item1, 0, later, earlier, new IPair(l[i].Tag, l[i].Time, l[i].End, r[j].Tag, r[j].Time, r[j].End)));
                }
            }

            if (!matched)
            {
                rows.Add((l[i].Time, 1, left, left, new IPair(l[i].Tag, l[i].Time, l[i].End, -1, 0, 0)));
            }
        }

        return [.. rows.OrderBy(x => x.Start).ThenBy(x => x.Unmatched).ThenBy(x => x.Later).ThenByDescending(x => x.Earlier).Select(x => x.Result)];
    }

    /// <summary>The input must have what the test is about: a pair and an unmatched left result with the same start.</summary>
    private static void AssertTiesBetweenPairsAndUnmatched(List<IPair> expected)
    {
        int ties = expected.Where(p => p.RightTag < 0).Select(p => p.LeftStart)
            .Intersect(expected.Where(p => p.RightTag >= 0).Select(p => Math.Max(p.LeftStart, p.RightStart)))
            .Count();
        Assert.True(ties > 20, $"{ties} starts with both a pair and an unmatched left result: the input must have many");
    }

    private static void AssertSameInOrder(List<IPair> expected, IReadOnlyList<IPair> actual, string what)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i] == actual[i], $"{what}: result {i} of {expected.Count} is {actual[i]}, expected {expected[i]}");
        }
    }

    private async Task<List<T>> RunOnRocksDb<T>(IQStream<T> query, string name)
    {
        var sink = new MemorySink<T>();
        await using (var job = query.ToJob(sink, new JobOptions
        {
            State = StateBackend.RocksDb(Path.Combine(_directory, name), 16),
            Checkpoints = new DirectoryCheckpointStore(Path.Combine(_directory, name + "-checkpoints")),
            CheckpointEveryEvents = 250,
        }))
        {
            await job.RunAsync();
        }

        Assert.True(sink.Completed);
        return [.. sink.Items];
    }

    private static IQStream<Iv> Source(Iv[] data, bool disordered, int batch, int read, string name) =>
        QStream.From(new ArrayEventSource<Iv>(data, name) { MaxRead = read }, e => e.Time, disordered ? IngressPolicy.Reorder(Disorder) : IngressPolicy.Throw)
            .WithOptions(new QueryOptions { BatchSize = batch, Strict = true })
            .WithLifetime(e => e.Time, e => e.End);

    private static IQStream<IPair> LeftOuter(Iv[] lefts, Iv[] rights, bool disordered, int batch, int leftRead, int rightRead) =>
        Source(lefts, disordered, batch, leftRead, "left").LeftJoin(
            Source(rights, disordered, batch, rightRead, "right"),
            l => l.Key,
            r => r.Key,
            (l, r) => new IPair(l.Tag, l.Time, l.End, r == null ? -1 : r.Tag, r == null ? 0 : r.Time, r == null ? 0 : r.End));

    private static IQStream<Iv> Anti(Iv[] lefts, Iv[] rights, bool disordered, int batch, int leftRead, int rightRead) =>
        Source(lefts, disordered, batch, leftRead, "left").WhereNotExists(Source(rights, disordered, batch, rightRead, "right"), l => l.Key, r => r.Key);

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
