using System.Linq.Expressions;
using LinqStream.Physical.Kernels;
using LinqStream.Physical.Pipeline;
using LinqStream.Query;
using LinqStream.Runtime.Egress;
using LinqStream.Runtime.Ingress;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Physical.Pipeline;

/// <summary>
/// Issue #19 (speed14): the one kernel of every filter/projection chain of a multicast over a replayed array reads each event object
/// of a slice once (<see cref="MulticastIngressKernel"/>). The kernel alone is checked against LINQ to objects over random slices
/// (every start written, each chain's present events at the front of its columns, in order); whole queries of three and four
/// chains, chains wired in another order than the plan lists them, and a compiled plan that wires and runs without compiling
/// anything are checked end to end against LINQ to objects and the unfused run.
/// </summary>
public sealed class MulticastIngressKernelTests
{
    /// <summary>An input event: a time, a kind 0..3, a key anywhere in the range of long, a name (null now and then).</summary>
    public sealed record Ev(long Time, int Kind, long Key, string? Name);

    /// <summary>A projection to a struct (no references in the output column).</summary>
    public readonly record struct KeyKind(long Key, int Kind);

    private static PipelineKernelStep Where<T>(Expression<Func<T, bool>> f) => new(true, f);

    private static PipelineKernelStep Select<T, TR>(Expression<Func<T, TR>> f) => new(false, f);

    private static readonly Expression<Func<Ev, long>> Ticks = e => e.Time;

    [Theory]
    [InlineData(1, 0, 1)]
    [InlineData(2, 0, 7)]
    [InlineData(3, 5, 64)]
    [InlineData(4, 13, 333)]
    [InlineData(5, 0, 2048)]
    [InlineData(6, 100, 4096)]
    [InlineData(7, 0, 0)]
    public void FourChains_RandomSlice_EveryStartAndEachChainsPresentEventsAsLinqToObjects(int seed, int offset, int count)
    {
        var input = Events(offset + count + 9, seed);
        List<IReadOnlyList<PipelineKernelStep>> chains =
        [
            [Where<Ev>(e => e.Kind == 0), Select<Ev, string?>(e => e.Name)],                                         // a sparse entity, references
            [Where<Ev>(e => e.Kind == 1), Select<Ev, long>(e => e.Key), Where<long>(k => k % 3 != 0)],                // a projection then a filter
            [Where<Ev>(e => e.Time % 2 == 0)],                                                                      // filter only: the event itself
            [Select<Ev, KeyKind>(e => new KeyKind(e.Key ^ e.Time, e.Kind))],                                        // no filter: every event
        ];
        var kernel = MulticastIngressKernel.Compile<Ev>(Ticks, chains, [typeof(string), typeof(long), typeof(Ev), typeof(KeyKind)], KernelCompiler.Uncached);

        int capacity = Math.Max(1, count);
        var columns = new object[] { new long[capacity], new string?[capacity], new long[capacity], new long[capacity], new long[capacity], new Ev[capacity], new long[capacity], new KeyKind[capacity] };
        var starts = Enumerable.Repeat(-1L, capacity + 3).ToArray();
        var counts = new int[4];
        kernel(input, offset, starts, columns, counts, count);

        var slice = input.Skip(offset).Take(count).ToList();
        Assert.Equal(slice.Select(e => e.Time), starts.Take(count));
        Assert.All(starts.Skip(count), s => Assert.Equal(-1L, s)); // nothing written past the slice

        AssertChain(slice.Where(e => e.Kind == 0).Select(e => (e.Time, e.Name)), columns, 0, counts);
        AssertChain(slice.Where(e => e.Kind == 1).Where(e => e.Key % 3 != 0).Select(e => (e.Time, e.Key)), columns, 1, counts);
        AssertChain(slice.Where(e => e.Time % 2 == 0).Select(e => (e.Time, e)), columns, 2, counts);
        AssertChain(slice.Select(e => (e.Time, new KeyKind(e.Key ^ e.Time, e.Kind))), columns, 3, counts);
    }

    [Fact]
    public void AChainThrows_TheKernelThrows_AndWritesNoCount()
    {
        var input = Events(500, seed: 11);
        int target = Array.FindIndex(input, 200, e => e.Kind == 2);
        var bad = input[target];
        List<IReadOnlyList<PipelineKernelStep>> chains =
        [
            [Where<Ev>(e => e.Kind == 0)],
            [Where<Ev>(e => e.Kind == 2), Select<Ev, long>(e => ReferenceEquals(e, bad) ? e.Key / (e.Kind - 2) : e.Key)],
        ];
        var kernel = MulticastIngressKernel.Compile<Ev>(Ticks, chains, [typeof(Ev), typeof(long)], KernelCompiler.Uncached);
        var counts = new[] { -5, -5 };
        object[] columns = [new long[500], new Ev[500], new long[500], new long[500]];

        Assert.Throws<DivideByZeroException>(() => kernel(input, 0, new long[500], columns, counts, 500));
        Assert.Equal(new[] { -5, -5 }, counts);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(333)]
    [InlineData(2048)]
    public void ThreeChainsOfOneSource_InAUnion_MatchLinqToObjectsAndTheUnfusedRun(int batchSize)
    {
        var input = Events(20_000, seed: batchSize);
        IQStream<string> Query(IQStream<Ev> events) =>
            events.Where(e => e.Kind == 0).Select(e => "p" + e.Key)
                .Union(events.Where(e => e.Kind == 1 && e.Name != null).Select(e => "a" + e.Name))
                .Union(events.Where(e => e.Kind == 3).Select(e => e.Key % 7 == 0 ? "k" + e.Time : "t" + e.Time));
        var fused = Run(Query(Source(input, batchSize, fuse: true)));
        var unfused = Run(Query(Source(input, batchSize, fuse: false)));

        List<string> expected =
        [
            .. input.Where(e => e.Kind == 0).Select(e => "p" + e.Key),
            .. input.Where(e => e.Kind == 1 && e.Name != null).Select(e => "a" + e.Name),
            .. input.Where(e => e.Kind == 3).Select(e => e.Key % 7 == 0 ? "k" + e.Time : "t" + e.Time),
        ];
        Assert.Equal(input.Length, fused.Fused);
        Assert.Equal(0, unfused.Fused);
        Assert.Equal(unfused.Sink.Events, fused.Sink.Events);
        Assert.Equal(unfused.Sink.Watermarks, fused.Sink.Watermarks);
        Assert.Equal(expected.Order(StringComparer.Ordinal), fused.Sink.Events.Select(e => e.Payload).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(64)]
    [InlineData(2048)]
    public void ChainsInBothRolesOfTwoJoins_KernelOrderIsNotTheWiringOrder_FuseAndMatchLinqToObjects(int batchSize)
    {
        // A join wires its left input first, while the compiler walks its right input first: the kernel lists the chains in another order
        // than the multicast gets them as consumers (as in q3 itself); here both chains are also each join's other side.
        var input = Events(15_000, seed: batchSize + 3);
        IQStream<(long, long)> Query(IQStream<Ev> events)
        {
            var left = events.Where(e => e.Kind == 0).Select(e => e.Key);
            var right = events.Where(e => e.Kind == 1).Select(e => e.Key);
            var pairs = from l in left.ExtendLifetime(TimeSpan.FromTicks(40)) join r in right on l equals r select ValueTuple.Create(l, r);
            var swapped = from r in right.ExtendLifetime(TimeSpan.FromTicks(40)) join l in left on r equals l select ValueTuple.Create(l, r);
            return pairs.Union(swapped);
        }

        var fused = Run(Query(Source(input, batchSize, fuse: true)));
        var unfused = Run(Query(Source(input, batchSize, fuse: false)));

        var people = input.Where(e => e.Kind == 0).ToList();
        var items = input.Where(e => e.Kind == 1).ToList();
        var expected = (from p in people from a in items where p.Key == a.Key && a.Time >= p.Time && a.Time - p.Time <= 40 select (p.Key, a.Key))
            .Concat(from a in items from p in people where p.Key == a.Key && p.Time >= a.Time && p.Time - a.Time <= 40 select (p.Key, a.Key))
            .ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(input.Length, fused.Fused);
        Assert.Equal(unfused.Sink.Events, fused.Sink.Events);
        Assert.Equal(expected.Order(), fused.Sink.Events.Select(e => e.Payload).Order());
    }

    [Fact(Timeout = 60_000)]
    public async Task CompiledMulticastPlan_WiresAndRunsWithoutCompilingAnything()
    {
        await Task.Yield();
        var input = Events(5_000, seed: 17);
        var kernels = new KernelCompiler(new CompiledKernelCache(64));
        var events = Source(input, 256, fuse: true);
        var query = events.Where(e => e.Kind == 0).Select(e => e.Key).Union(events.Where(e => e.Kind == 2).Select(e => -e.Key));
        var compiled = QueryCompiler.Compile<long>(query.Expression, kernels);
        long lookups = kernels.Cache!.Misses + kernels.Cache.Hits;

        var (sink, execution) = Harness.Execute(compiled.Root, compiled.Options);

        Assert.Equal(lookups, kernels.Cache.Misses + kernels.Cache.Hits); // wiring and running compiled nothing
        Assert.Equal(input.Length, execution.Context.Sources.OfType<EnumerableSource<Ev>>().Single().FusedEvents);
        Assert.Equal(
            input.Where(e => e.Kind == 0).Select(e => e.Key).Concat(input.Where(e => e.Kind == 2).Select(e => -e.Key)).Order(),
            sink.Events.Select(e => e.Payload).Order());
    }

    private static void AssertChain<T>(IEnumerable<(long Time, T Value)> expected, object[] columns, int chain, int[] counts)
    {
        var want = expected.ToList();
        Assert.Equal(want.Count, counts[chain]);
        var start = (long[])columns[2 * chain];
        var payload = (T[])columns[(2 * chain) + 1];
        Assert.Equal(want.Select(w => w.Time), start.Take(counts[chain]));
        Assert.Equal(want.Select(w => w.Value), payload.Take(counts[chain]));
        Assert.All(payload.Skip(counts[chain]), p => Assert.True(EqualityComparer<T>.Default.Equals(p, default!))); // nothing written past the chain's events
    }

    private static IQStream<Ev> Source(Ev[] input, int batchSize, bool fuse) =>
        QStream.From(input, e => e.Time, IngressPolicy.Throw, "events").WithOptions(new QueryOptions { BatchSize = batchSize, Strict = true, Fuse = fuse });

    private static (RecordingSink<T> Sink, long Fused) Run<T>(IQStream<T> query)
    {
        var compiled = QueryCompiler.Compile<T>(query.Expression);
        var (sink, execution) = Harness.Execute(compiled.Root, compiled.Options);
        return (sink, execution.Context.Sources.OfType<EnumerableSource<Ev>>().Sum(s => s.FusedEvents));
    }

    /// <summary>In start order with ties and now and then a gap; kinds 0..3 (0 and 1 rare, as NEXMark's people and auctions); keys from a small pool holding both ends of long.</summary>
    private static Ev[] Events(int count, int seed)
    {
        var random = new Random(seed);
        long[] keys = [long.MinValue, long.MaxValue, 0, -1, 1, .. Enumerable.Range(0, 30).Select(_ => random.NextInt64(long.MinValue, long.MaxValue))];
        var events = new Ev[count];
        long t = random.Next(0, 1000);
        for (int i = 0; i < count; i++)
        {
            t += random.Next(0, 3) + (random.Next(500) == 0 ? 1000 : 0);
            int kind = random.Next(20) switch { 0 => 0, 1 or 2 => 1, < 12 => 2, _ => 3 };
            events[i] = new Ev(t, kind, keys[random.Next(keys.Length)], random.Next(10) == 0 ? null : "n" + random.Next(100));
        }

        return events;
    }
}
