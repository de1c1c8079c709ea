using System.Linq.Expressions;
using LinqStream.Physical.Kernels;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Query;

/// <summary>The compiled-kernel cache: a query built again with other captured values compiles nothing and gives its own answer.</summary>
public sealed class CompiledKernelCacheTests
{
    private sealed record Bid(long Time, int Auction, int Price);

    private sealed record Row(long WindowEnd, int Auction, int Count, int Scaled);

    [Fact(Timeout = 60_000)]
    public async Task Compile_SameShapeOtherCapturedValues_CompilesOnceAndEachQueryGetsItsOwnResult()
    {
        await Task.Yield();
        var kernels = new KernelCompiler(new CompiledKernelCache(64));
        var random = new Random(15);
        var first = Bids(random, 2_000);
        var second = Bids(random, 1_500);

        var firstResult = Harness.RunQuery(WindowedCounts(first, minPrice: 30, factor: 2), kernels);
        (long hits, long misses) = (kernels.Cache!.Hits, kernels.Cache.Misses);
        var secondResult = Harness.RunQuery(WindowedCounts(second, minPrice: 70, factor: 5), kernels);

        Assert.True(misses >= 4, $"time, key, filter and aggregate kernels compile for the first query; {misses} did");
        Assert.Equal(misses, kernels.Cache.Misses);                 // nothing compiled for the second query
        Assert.Equal(hits + misses, kernels.Cache.Hits - hits);      // every kernel of the second query came from the cache
        Assert.Equal(Reference(first, 30, 2), Sorted(firstResult));
        Assert.Equal(Reference(second, 70, 5), Sorted(secondResult));
        Assert.NotEqual(firstResult, secondResult);
    }

    [Fact(Timeout = 60_000)]
    public async Task Compile_DifferentLiteral_IsAnotherShape()
    {
        await Task.Yield();
        var kernels = new KernelCompiler(new CompiledKernelCache(64));
        var data = Bids(new Random(7), 500);

        var over10 = Harness.RunQuery(QStream.From(data, b => b.Time).Where(b => b.Price > 10).Select(b => b.Price), kernels);
        long misses = kernels.Cache!.Misses;
        var over90 = Harness.RunQuery(QStream.From(data, b => b.Time).Where(b => b.Price > 90).Select(b => b.Price), kernels);

        Assert.True(kernels.Cache.Misses > misses, "a literal is part of the shape, so the filter compiles again");
        Assert.Equal(data.Where(b => b.Price > 10).Select(b => b.Price), over10);
        Assert.Equal(data.Where(b => b.Price > 90).Select(b => b.Price), over90);
    }

    [Fact(Timeout = 60_000)]
    public async Task Compile_CacheOff_CompilesEveryTimeAndKeepsNothing()
    {
        await Task.Yield();
        var kernels = new KernelCompiler(new CompiledKernelCache(0));
        var data = Bids(new Random(3), 300);

        var a = Harness.RunQuery(WindowedCounts(data, 10, 1), kernels);
        var b = Harness.RunQuery(WindowedCounts(data, 10, 1), kernels);

        Assert.Equal(0, kernels.Cache!.Hits);
        Assert.Equal(0, kernels.Cache.Count);
        Assert.Equal(a, b);
    }

    [Fact(Timeout = 30_000)]
    public async Task GetOrAdd_CacheFull_EvictsTheLeastRecentlyUsedShape()
    {
        await Task.Yield();
        var kernels = new KernelCompiler(new CompiledKernelCache(2));
        int offset = 1;
        Expression<Func<int, int>> add = x => x + offset;
        Expression<Func<int, int>> multiply = x => x * offset;
        Expression<Func<int, int>> subtract = x => x - offset;

        _ = kernels.Compile(add);
        _ = kernels.Compile(multiply);
        _ = kernels.Compile(add);       // hit: add is now the most recent
        _ = kernels.Compile(subtract);  // evicts multiply
        _ = kernels.Compile(add);       // hit
        _ = kernels.Compile(multiply);  // compiled again

        Assert.Equal((2, 4, 2), (kernels.Cache!.Hits, kernels.Cache.Misses, kernels.Cache.Count));
    }

    [Fact(Timeout = 30_000)]
    public async Task Compile_CapturedVariableChangesBetweenCompiles_EachKernelSeesItsClosure()
    {
        await Task.Yield();
        var kernels = new KernelCompiler(new CompiledKernelCache(8));

        var plus1 = kernels.Compile(Adder(1));
        var plus100 = kernels.Compile(Adder(100));

        Assert.Equal((1, 1), (kernels.Cache!.Misses, kernels.Cache.Hits));
        Assert.Equal((6, 105), (plus1(5), plus100(5)));

        static Expression<Func<int, int>> Adder(int n) => x => x + n;
    }

    [Fact(Timeout = 60_000)]
    public async Task Compile_ManyThreadsOneShape_EveryKernelIsCorrectAndOneIsKept()
    {
        var kernels = new KernelCompiler(new CompiledKernelCache(8));
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(n => Task.Run(() => kernels.Compile(Scale(n))(3))));

        Assert.Equal(Enumerable.Range(0, 16).Select(n => 3 * n), results);
        Assert.Equal(1, kernels.Cache!.Count);
        Assert.Equal(16, kernels.Cache.Hits + kernels.Cache.Misses);

        static Expression<Func<int, int>> Scale(int n) => x => x * n;
    }

    [Fact(Timeout = 30_000)]
    public async Task Compile_KernelDropped_CacheDoesNotKeepItsCapturedObjectAlive()
    {
        await Task.Yield();
        var kernels = new KernelCompiler(new CompiledKernelCache(8));

        var captured = CompileAndDrop(kernels);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.Equal(1, kernels.Cache!.Count);
        Assert.False(captured.IsAlive, "the cache entry keeps the captured object of the query that compiled it");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference CompileAndDrop(KernelCompiler kernels)
    {
        var big = new int[1000];
        Expression<Func<int, int>> lookup = i => big[i];
        Assert.Equal(0, kernels.Compile(lookup)(3));
        return new WeakReference(big);
    }

    [Fact(Timeout = 30_000)]
    public async Task KernelShape_SameClosureTypeOtherValues_IsOneShapeWithTheValuesLifted()
    {
        await Task.Yield();

        var a = KernelShape.Of(Filter(5))!;
        var b = KernelShape.Of(Filter(6))!;

        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.Single(a.Values);
        Assert.NotSame(a.Values[0], b.Values[0]);

        static Expression<Func<int, bool>> Filter(int min) => x => x > min;
    }

    [Fact(Timeout = 30_000)]
    public async Task KernelShape_DifferentMemberOrOperator_IsAnotherShape()
    {
        await Task.Yield();
        Expression<Func<Bid, int>> price = b => b.Price;
        Expression<Func<Bid, int>> auction = b => b.Auction;
        Expression<Func<int, int, int>> plus = (x, y) => x + y;
        Expression<Func<int, int, int>> swapped = (x, y) => y + x;

        Assert.NotEqual(KernelShape.Of(price), KernelShape.Of(auction));
        Assert.NotEqual(KernelShape.Of(plus), KernelShape.Of(swapped));
    }

    private static IQStream<Row> WindowedCounts(Bid[] bids, int minPrice, int factor) =>
        from b in QStream.From(bids, b => DateTimeOffset.UnixEpoch.AddTicks(b.Time)).Where(b => b.Price >= minPrice).TumblingWindow(TimeSpan.FromTicks(100))
        group b by b.Auction into g
        select new Row(g.Window.End.UtcTicks, g.Key, g.Count(), g.Sum(b => b.Price * factor));

    /// <summary>LINQ to objects: windows of 100 ticks counted from the Unix epoch (whose ticks are a multiple of 100).</summary>
    private static List<Row> Reference(Bid[] bids, int minPrice, int factor) =>
        Sorted(bids.Where(b => b.Price >= minPrice)
            .GroupBy(b => (End: DateTimeOffset.UnixEpoch.UtcTicks + (b.Time / 100 * 100) + 100, b.Auction))
            .Select(g => new Row(g.Key.End, g.Key.Auction, g.Count(), g.Sum(b => b.Price * factor))));

    private static List<Row> Sorted(IEnumerable<Row> rows) => [.. rows.OrderBy(r => r.WindowEnd).ThenBy(r => r.Auction)];

    private static Bid[] Bids(Random random, int count)
    {
        long time = 0;
        var bids = new Bid[count];
        for (int i = 0; i < count; i++)
        {
            time += random.Next(0, 7);
            bids[i] = new Bid(time, random.Next(0, 12), random.Next(1, 100));
        }

        return bids;
    }
}
