using LinqStream.Physical.Kernels;
using LinqStream.Query;
using LinqStream.Query.Optimization;
using LinqStream.Query.Physicalization;
using LinqStream.Query.Preprocessing;
using LinqStream.Query.Translation;
using LinqStream.Runtime;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Query;

/// <summary>Kernel compilation is the compiler's last stage: physical planning compiles nothing, the stage compiles every kernel once, wiring none.</summary>
public sealed class KernelCompilationTests
{
    private sealed record Bid(long Time, int Auction, int Price, int[] Tags);

    private sealed record Ask(long Time, int Auction, int Limit);

    private static readonly Bid[] Bids = [.. Enumerable.Range(0, 400).Select(i => new Bid(i * 7L, i % 5, (i * 37) % 100, [i % 3, i % 4]))];

    private static readonly Ask[] Asks = [.. Enumerable.Range(0, 100).Select(i => new Ask(i * 25L, i % 5, (i * 11) % 100))];

    /// <summary>Every operator with kernels: ingress, Where/Select, SelectMany, window aggregate with a key, join, ClipLifetime.</summary>
    private static IQStream<(int Auction, long Count, int Top)> Query(int minPrice)
    {
        var bids = QStream.From(Bids, b => b.Time).Where(b => b.Price >= minPrice);
        var asks = QStream.From(Asks, a => a.Time).ExtendLifetime(TimeSpan.FromTicks(50)).ClipLifetime(a => a.Auction);
        var matched = from b in bids join a in asks on b.Auction equals a.Auction select new { b.Auction, b.Price, b.Tags };
        return from m in matched.SelectMany(m => m.Tags, (m, t) => new { m.Auction, m.Price, Tag = t }).TumblingWindow(TimeSpan.FromTicks(200))
               group m by m.Auction into g
               select ValueTuple.Create(g.Key, g.LongCount(), g.Max(x => x.Price + x.Tag));
    }

    private static (PhysicalStream<T> Root, KernelCompiler Kernels) PlanOnly<T>(IQStream<T> query)
    {
        var kernels = new KernelCompiler(new CompiledKernelCache(64));
        var context = new QueryCompilationContext(typeof(T), kernels);
        var expression = GroupShapeRewriter.Process(CovariantUpcastRewriter.Process(query.Expression, typeof(T)));
        var plan = QueryOptimizer.Process(QueryTranslator.Translate(expression, context), context);
        return (Physicalizer.Process<T>(plan, context), kernels);
    }

    [Fact(Timeout = 60_000)]
    public async Task PhysicalPlanning_CompilesNoKernel_TheLastStageCompilesThemAllOnce()
    {
        await Task.Yield();
        var (root, kernels) = PlanOnly(Query(20));

        Assert.Equal((0L, 0L), (kernels.Cache!.Hits, kernels.Cache.Misses)); // planning looked up (or compiled) nothing

        int nodes = KernelCompilation.Process(root);
        long compiled = kernels.Cache.Misses + kernels.Cache.Hits;
        int again = KernelCompilation.Process(root);

        Assert.True(nodes >= 6, $"ingress x2, Where, ClipLifetime, join, SelectMany and the aggregate have kernels; {nodes} nodes had");
        Assert.True(compiled >= 9, $"{compiled} kernels compiled");
        Assert.Equal(nodes, again);
        Assert.Equal(compiled, kernels.Cache.Misses + kernels.Cache.Hits); // the stage is idempotent
    }

    [Fact(Timeout = 60_000)]
    public async Task CompiledPlan_RunsWithoutCompilingAnything_AndMatchesTheQueryRunDirectly()
    {
        await Task.Yield();
        var (root, kernels) = PlanOnly(Query(20));
        KernelCompilation.Process(root);
        long lookups = kernels.Cache!.Misses + kernels.Cache.Hits;

        var results = Harness.Run(root, new QueryOptions()).Events.Select(e => e.Payload).Order().ToList();

        Assert.Equal(lookups, kernels.Cache.Misses + kernels.Cache.Hits); // wiring and running compiled nothing
        var expected = (await Query(20).ToListAsync()).Order().ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, results);
    }
}
