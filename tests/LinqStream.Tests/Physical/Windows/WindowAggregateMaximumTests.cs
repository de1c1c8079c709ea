using System.Linq.Expressions;
using LinqStream.Physical.Aggregate;
using LinqStream.Physical.Kernels;
using LinqStream.Physical.Windows;
using LinqStream.Physical.Windows.ArgMax;
using LinqStream.Runtime;
using LinqStream.Runtime.Egress;
using LinqStream.Temporal;

namespace LinqStream.Tests.Physical.Windows;

/// <summary>
/// A fixed-window aggregate whose consumer keeps only each window's results at the maximum (<see cref="IWindowMaximumInput{T}"/>:
/// <c>WindowArgMax</c>, NEXMark q5) passes on only those results, in the order it would have emitted them; every other result of the
/// window is dropped, and a value that throws sends the window the ordinary way (issue #19).
/// </summary>
public sealed class WindowAggregateMaximumTests
{
    public readonly record struct Count(int Key, long N, long Start);

    public readonly record struct NullableCount(string? Key, long N, long Start);

    private static readonly Expression<Func<Reading, int>> Key = r => r.Key;

    private static readonly Expression<Func<IWindowGroup<int, Reading>, Count>> Counts = g => new Count(g.Key, g.Count(), g.Window.StartTicks);

    public static TheoryData<int, bool> Cases() => new() { { 1, true }, { 2, true }, { 3, false }, { 4, false }, { 5, true } };

    [Theory]
    [MemberData(nameof(Cases))]
    public void KeyedCounts_RandomInput_PassOnEachWindowsMaximumInKeyOrder(int seed, bool hopping)
    {
        var window = hopping ? WindowSpec.Hopping(300, 100) : WindowSpec.Tumbling(100);
        var input = Generate(seed);

        var all = Run<Count, int>(window, Key, Counts, input, value: null);
        var kept = Run<Count, int>(window, Key, Counts, input, value: c => c.N);

        Assert.True(kept.Events.Count < all.Events.Count, "some results are below their window's maximum");
        Assert.Equal(AtMaximum(all.Events, c => c.N), kept.Events);
        Assert.Equal(all.Watermarks, kept.Watermarks);
        Assert.True(kept.Completed);
    }

    [Fact]
    public void WholeWindowCount_NoKey_PassesOnEveryWindowsOneResult()
    {
        Expression<Func<IWindowGroup<NoKey, Reading>, Count>> selector = w => new Count(0, w.Count(), w.Window.StartTicks);
        var input = Generate(9);

        var all = Run<Count, NoKey>(WindowSpec.Hopping(300, 100), null, selector, input, value: null);
        var kept = Run<Count, NoKey>(WindowSpec.Hopping(300, 100), null, selector, input, value: c => c.N);

        Assert.NotEmpty(all.Events);
        Assert.Equal(all.Events, kept.Events);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void NullableKeys_NullKeysGroupComesFirst_PassesOnTheMaximumOfAllGroups(bool hopping)
    {
        Expression<Func<Reading, string>> key = r => r.Key % 4 == 0 ? null! : "k" + r.Key;
        Expression<Func<IWindowGroup<string, Reading>, NullableCount>> selector = g => new NullableCount(g.Key, g.Count(), g.Window.StartTicks);
        var window = hopping ? WindowSpec.Hopping(300, 100) : WindowSpec.Tumbling(100);
        var input = Generate(13);

        var all = Run<NullableCount, string>(window, key, selector, input, value: null);
        var kept = Run<NullableCount, string>(window, key, selector, input, value: c => c.N);

        Assert.Contains(kept.Events, e => e.Payload.Key is null);
        Assert.Equal(AtMaximum(all.Events, c => c.N), kept.Events);
    }

    [Fact]
    public void ValueThrows_WindowGoesTheOrdinaryWay_EveryResultOfThatWindowPassesOn()
    {
        var window = WindowSpec.Hopping(300, 100);
        var input = Generate(21);
        var all = Run<Count, int>(window, Key, Counts, input, value: null);
        long failingStart = all.Events[all.Events.Count / 2].Start;

        var kept = Run<Count, int>(window, Key, Counts, input, value: c => c.Start == failingStart && c.Key == 3 ? throw new InvalidOperationException("value") : c.N);

        var expected = AtMaximum(all.Events.Where(e => e.Start != failingStart).ToList(), c => c.N)
            .Concat(all.Events.Where(e => e.Start == failingStart))
            .OrderBy(e => e.Start)
            .ToList();
        Assert.Contains(all.Events, e => e.Start == failingStart && e.Payload.Key == 3);
        Assert.Equal(expected, kept.Events);
    }

    /// <summary>Each window's results (those sharing a start) at the window's largest value, in their order.</summary>
    private static List<StreamEvent<T>> AtMaximum<T>(List<StreamEvent<T>> events, Func<T, long> value) =>
        [.. events.GroupBy(e => e.Start).SelectMany(w =>
        {
            long max = w.Max(e => value(e.Payload));
            return w.Where(e => value(e.Payload) == max);
        })];

    private static RecordingSink<TResult> Run<TResult, TKey>(WindowSpec window, LambdaExpression? key, LambdaExpression selector, Reading[] input, Func<TResult, long>? value)
        where TKey : notnull
    {
        var context = new QueryContext(new QueryOptions { BatchSize = 64 });
        var sink = value is null ? new Sink<TResult>(context) : (Sink<TResult>)new MaximumSink<TResult>(context, value);
        var plan = Infrastructure.AggregatePlans.Plan<Reading, TKey, TResult>(selector);
        var op = new FixedWindowAggregateOperator<Reading, TKey, TResult>(
            sink, context, window, key is null ? null : ColumnKernel.Compile<Reading, TKey>(key), plan, "test");
        WindowAggregateStateTests.Feed(op, context, input);
        op.OnWatermark(Ticks.Infinity); // as a completed source sends
        op.OnCompleted();
        Assert.Null(sink.Recorded.Error);
        Assert.Null(sink.Recorded.Violation);
        Assert.Equal(0, op.LiveGroups);
        Assert.Equal(0, context.OutstandingBatches());
        return sink.Recorded;
    }

    /// <summary>Bursts of readings from 12 keys (many equal counts), with gaps longer than a window (empty windows).</summary>
    private static Reading[] Generate(int seed)
    {
        var random = new Random(seed);
        long time = Ticks.UnixEpoch + random.Next(1_000);
        var readings = new Reading[4_000];
        for (int i = 0; i < readings.Length; i++)
        {
            time += random.Next(40) == 0 ? random.Next(400, 1_000) : random.Next(0, 3);
            readings[i] = new Reading(time, random.Next(12), random.Next(100), "t");
        }

        return readings;
    }

    private class Sink<T>(QueryContext context) : IStreamObserver<T>
    {
        public RecordingSink<T> Recorded { get; } = new(context);

        public void OnBatch(EventBatch<T> batch) => Recorded.OnBatch(batch);

        public void OnWatermark(long watermark) => Recorded.OnWatermark(watermark);

        public void OnCompleted() => Recorded.OnCompleted();

        public void OnError(Exception error) => Recorded.OnError(error);
    }

    /// <summary>Records what it is given and, as <c>WindowArgMax</c> does, tells the aggregate each result's compared value.</summary>
    private sealed class MaximumSink<T>(QueryContext context, Func<T, long> value) : Sink<T>(context), IWindowMaximumInput<T>
    {
        public void ComputeValues(T[] payload, ulong[]? absent, long[] values, int count)
        {
            for (int i = 0; i < count; i++)
            {
                values[i] = value(payload[i]);
            }
        }
    }
}
