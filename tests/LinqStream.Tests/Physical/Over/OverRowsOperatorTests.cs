using System.Linq.Expressions;
using LinqStream.Physical.Kernels;
using LinqStream.Physical.Over;
using LinqStream.Runtime;
using LinqStream.Runtime.Egress;
using LinqStream.Tests.Infrastructure;
using LinqStream.Tests.Physical.Lifetime;

namespace LinqStream.Tests.Physical.Over;

/// <summary>
/// <c>Over</c>'s operator on its own: its state captured in the middle of a random run (through the checkpoint codec) and restored
/// into a new operator gives what one uninterrupted run gives (primitive keys in the open-addressing table, and string keys with
/// the null key in the dictionary); idle keys are freed by the lazy expiry queue at the latest one timeout late, never seen by a
/// checkpoint once idle, and their slots reused.
/// </summary>
public sealed class OverRowsOperatorTests
{
    private const int Rows = 3;

    /// <summary>An event: its key, value, and a serial number.</summary>
    internal readonly record struct Row(long Key, long Value, int Id);

    /// <summary>What an event saw: its id, the count of rows, their sum, and an order-sensitive fold of their ids.</summary>
    internal readonly record struct Seen(int Id, int Count, long Sum, long Ids);

    internal readonly struct SeenRows : IAggregate<Row, Seen, Seen>
    {
        public Seen Initial() => default;

        public Seen Add(Seen state, Row input) =>
            new(input.Id, state.Count + 1, unchecked(state.Sum + input.Value), unchecked((state.Ids * 1_000_003) + input.Id + 1));

        public Seen Result(Seen state) => state;
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 7)]
    [InlineData(3, 4096)]
    public void Over_LongKeys_StateRestoredMidRun_FinishesLikeAnUninterruptedRun(int seed, int batchSize) =>
        CheckRestore<long>(seed, batchSize, r => r.Key, r => r.Key.ToString(System.Globalization.CultureInfo.InvariantCulture));

    [Theory]
    [InlineData(4, 1)]
    [InlineData(5, 7)]
    [InlineData(6, 4096)]
    public void Over_StringKeysWithNull_StateRestoredMidRun_FinishesLikeAnUninterruptedRun(int seed, int batchSize) =>
        CheckRestore<string>(seed, batchSize, r => r.Key % 4 == 0 ? null! : r.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), r => r.Key % 4 == 0 ? "<null>" : r.Key.ToString(System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void Over_KeyIdleBehindALaterDue_IsLeftOutOfCheckpoints_AndFreedWithinOneMoreTimeout()
    {
        const long idle = 100;
        var (sut, source, sink, context) = Create<long>(r => r.Key, idle, batchSize: 16);

        // Key 1 (F) and key 2 (X) are queued at 0 and 1; X is seen at 10, F at 99. At 101 F goes round (due 199) ahead of X (due 110).
        source.Push((0, 1, new Row(1, 5, 0)), (1, 2, new Row(2, 6, 1)), (10, 11, new Row(2, 7, 2)), (99, 100, new Row(1, 8, 3)));
        source.Watermark(101);
        Assert.Equal(2, sut.KeyCount);

        // At 120 X is idle (120 - 10 >= 100) but waits behind F: a checkpoint lists only F, with its rows oldest first.
        source.Watermark(120);
        Assert.Equal(2, sut.KeyCount);
        var state = sut.CaptureState();
        Assert.Equal([1L], state.Keys.Select(k => k.Key));
        Assert.Equal(99, state.Keys[0].LastStart);
        Assert.Equal([0, 3], state.Keys[0].Rows.Select(r => r.Id));

        // Idle X's next event sees only itself though X is not freed yet; at 230 both are gone, their slots free for new keys.
        source.Push((130, 131, new Row(2, 9, 4)));
        Assert.Equal(new Seen(4, 1, 9, 5), sink.Events[^1].Payload);
        source.Watermark(230);
        Assert.Equal(0, sut.KeyCount);
        Assert.Equal(0, sut.RowCount);
        Assert.Empty(sut.CaptureState().Keys);

        source.Push((240, 241, new Row(3, 1, 5)), (241, 242, new Row(3, 2, 6)));
        Assert.Equal(new Seen(6, 2, 3, ((0L * 1_000_003) + 6) * 1_000_003 + 7), sink.Events[^1].Payload);
        Assert.Equal(1, sut.KeyCount);
        source.Complete();
        Assert.True(sink.Completed);
        Assert.Null(sink.Violation);
        Assert.Equal(0, context.OutstandingBatches());
    }

    [Fact]
    public void Over_ManyKeysIdleInTurn_HeldKeysStayWithinTwoTimeouts()
    {
        // 200,000 events over 20,000 keys in turn, each key idle for 5,000 ticks between events against a 1,000-tick timeout, so
        // the queue frees and requeues all the time and slots are reused (the queue's ring wraps many times).
        const long idle = 1_000;
        var (sut, source, sink, context) = Create<long>(r => r.Key, idle, batchSize: 64);
        var random = new Random(7);
        int maxHeld = 0;
        for (int block = 0; block < 100; block++)
        {
            var events = new (long, long, Row)[2_000];
            for (int j = 0; j < events.Length; j++)
            {
                long t = (block * 2_000L) + j;
                events[j] = (t, t + 1, new Row(((block % 10) * 2_000L) + random.Next(2_000), j, (block * 2_000) + j));
            }

            source.Push(events);
            maxHeld = Math.Max(maxHeld, sut.KeyCount);

            // A key is freed at the latest two timeouts after its last event (one event a tick here, checked after each batch).
            Assert.True(sut.KeyCount <= (2 * (int)idle) + 64, $"{sut.KeyCount} keys held after block {block}");
        }

        Assert.True(maxHeld > 500);
        source.Complete();
        Assert.Equal(200_000, sink.Events.Count);
        Assert.Null(sink.Violation);
        Assert.Equal(0, context.OutstandingBatches());
    }

    private static void CheckRestore<TKey>(int seed, int batchSize, Expression<Func<Row, TKey>> key, Func<Row, string> keyName)
        where TKey : notnull
    {
        const long idle = 40;
        var random = new Random(seed);
        var input = new List<(long Start, long End, Row Payload)>();
        long time = 1_000;
        for (int i = 0; i < 6_000; i++)
        {
            time += random.Next(6) switch
            {
                0 => 50,  // longer than the timeout
                < 3 => 0, // a tie
                _ => random.Next(1, 4),
            };
            long k = random.Next(20) switch
            {
                0 => long.MaxValue - random.Next(2),
                1 => long.MinValue + random.Next(2),
                _ => random.Next(60),
            };
            input.Add((time, time + random.Next(1, 30), new Row(k, random.Next(-5, 5) == 0 ? long.MinValue : random.Next(1_000), i)));
        }

        // Cut between two starts (a checkpoint is taken between batches), not right after a pause (then every key would be idle).
        int cut = input.Count / 2;
        while (input[cut].Start == input[cut - 1].Start || input[cut].Start - input[cut - 1].Start >= idle)
        {
            cut++;
        }

        var (before, firstHalf, firstSink, first) = Create(key, idle, batchSize);
        firstHalf.Push([.. input.Take(cut)]);
        firstHalf.Watermark(input[cut].Start);
        using var saved = new MemoryStream();
        using (var writer = new BinaryWriter(saved, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            before.WriteState(writer);
        }

        Assert.NotEmpty(before.CaptureState().Keys);
        saved.Position = 0;
        var (after, secondHalf, secondSink, second) = Create(key, idle, batchSize);
        using (var reader = new BinaryReader(saved))
        {
            after.ReadState(reader);
        }

        Assert.Equal(before.CaptureState().Keys.Select(k => (k.Key, k.LastStart, string.Join(",", k.Rows))), after.CaptureState().Keys.Select(k => (k.Key, k.LastStart, string.Join(",", k.Rows))));
        secondHalf.Push([.. input.Skip(cut)]);
        secondHalf.Complete();

        var expected = Reference(input, keyName, idle);
        Assert.Contains(expected, e => e.Payload.Count == Rows);
        Assert.Equal(expected, firstSink.Events.Concat(secondSink.Events));
        Assert.Null(firstSink.Violation);
        Assert.Null(secondSink.Violation);
        Assert.Equal(0, first.OutstandingBatches() + second.OutstandingBatches());
    }

    private static (OverRowsOperator<Row, TKey, Seen, Seen, SeenRows> Operator, ManualStream<Row> Source, RecordingSink<Seen> Sink, QueryContext Context) Create<TKey>(
        Expression<Func<Row, TKey>> key, long idle, int batchSize)
        where TKey : notnull
    {
        var context = new QueryContext(Harness.Options(batchSize));
        var sink = new RecordingSink<Seen>(context);
        var sut = new OverRowsOperator<Row, TKey, Seen, Seen, SeenRows>(sink, context, ColumnKernel.Compile<Row, TKey>(key), key.ToString(), Rows, idle, new SeenRows());
        var source = new ManualStream<Row>();
        source.Connect(sut, context);
        return (sut, source, sink, context);
    }

    /// <summary>LINQ to objects: per key the rows since it was last forgotten; each event folds the last <see cref="Rows"/>, itself last, at its own lifetime.</summary>
    private static List<StreamEvent<Seen>> Reference(List<(long Start, long End, Row Payload)> input, Func<Row, string> key, long idle)
    {
        var perKey = new Dictionary<string, (long Last, List<Row> Rows)>(StringComparer.Ordinal);
        var expected = new List<StreamEvent<Seen>>();
        foreach (var (start, end, row) in input)
        {
            string k = key(row);
            if (!perKey.TryGetValue(k, out var state) || start - state.Last >= idle)
            {
                state = (start, []);
            }

            state.Rows.Add(row);
            perKey[k] = (start, state.Rows);
            var seen = state.Rows.Skip(Math.Max(0, state.Rows.Count - Rows)).Aggregate(new SeenRows().Initial(), new SeenRows().Add);
            expected.Add(new StreamEvent<Seen>(start, end, seen));
        }

        return expected;
    }
}
