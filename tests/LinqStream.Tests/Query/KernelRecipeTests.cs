using System.Linq.Expressions;
using LinqStream.Internal;
using LinqStream.Physical.Kernels;
using LinqStream.Physical.Pipeline;
using LinqStream.Query;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Query;

/// <summary>
/// Kernels looked up by their recipe (the builder's kind, flags and the user's lambdas) on a compile of a cached shape, without
/// building the loop tree (issue #19): same answers as a fresh compile, the captured objects mapped by identity, literals kept,
/// undeclared embedded objects not cached, and one cache lookup per kernel as before.
/// </summary>
public sealed class KernelRecipeTests
{
    private sealed record Bid(long Time, int Auction, int Price);

    private sealed record Row(long WindowEnd, int Auction, long Count, int Top, int Cheap, int Folded);

    internal sealed class Box(int n)
    {
        public int N { get; } = n;
    }

    [Fact(Timeout = 120_000)]
    public async Task Compile_SameShapeOtherClosures_RecipeHitsGiveTheAnswersOfAFreshCompile()
    {
        await Task.Yield();
        var kernels = new KernelCompiler(new CompiledKernelCache(64));
        var random = new Random(19);
        var first = Bids(random, 3_000);
        var second = Bids(random, 2_500);

        var firstResult = Harness.RunQuery(Query(first, minPrice: 20, scale: 3, cheap: 40), kernels);
        (long hits, long misses, int recipes) = (kernels.Cache!.Hits, kernels.Cache.Misses, kernels.Cache.RecipeCount);
        var secondResult = Harness.RunQuery(Query(second, minPrice: 55, scale: 7, cheap: 80), kernels);

        Assert.True(recipes >= 5, $"event time, chain, fused ingress, key and aggregate inputs have recipes; {recipes} were cached");
        Assert.Equal(misses, kernels.Cache.Misses);                 // nothing compiled for the second query
        Assert.Equal(hits + misses, kernels.Cache.Hits - hits);      // one hit per kernel, as before recipes
        Assert.Equal(recipes, kernels.Cache.RecipeCount);           // the second query's recipes are the first's
        Assert.Equal(Sorted(Harness.RunQuery(Query(first, 20, 3, 40), KernelCompiler.Uncached)), Sorted(firstResult));
        Assert.Equal(Sorted(Harness.RunQuery(Query(second, 55, 7, 80), KernelCompiler.Uncached)), Sorted(secondResult));
        Assert.NotEqual(Sorted(firstResult), Sorted(secondResult));
    }

    [Fact(Timeout = 30_000)]
    public async Task Compile_OneClosureSharedOrTwoOfTheSameType_AreDifferentRecipesAndEachMapsItsOwn()
    {
        await Task.Yield();
        var kernels = new KernelCompiler(new CompiledKernelCache(16));
        var input = Enumerable.Range(0, 200).Select(i => (i * 37) % 50).ToArray();
        var shared = Pair(5);

        var sharedResult = RunChain(Chain(shared.Filter, shared.Project), input, kernels);
        var distinctResult = RunChain(Chain(Pair(3).Filter, Pair(7).Project), input, kernels);

        Assert.Equal(input.Where(x => x > 5).Select(x => x * 5), sharedResult);
        Assert.Equal(input.Where(x => x > 3).Select(x => x * 7), distinctResult);
        Assert.Equal((1L, 1L), (kernels.Cache!.Misses, kernels.Cache.Hits)); // one shape: the aliasing is not part of it
        Assert.Equal(2, kernels.Cache.RecipeCount);                         // but is part of the recipe

        // And the other way round: a recipe cached for two closures, then one shared by both lambdas.
        var again = Pair(9);
        Assert.Equal(input.Where(x => x > 9).Select(x => x * 9), RunChain(Chain(again.Filter, again.Project), input, kernels));
        Assert.Equal(input.Where(x => x > 2).Select(x => x * 4), RunChain(Chain(Pair(2).Filter, Pair(4).Project), input, kernels));
        Assert.Equal((1L, 3L, 2), (kernels.Cache.Misses, kernels.Cache.Hits, kernels.Cache.RecipeCount));
    }

    [Fact(Timeout = 30_000)]
    public async Task Compile_DifferentLiteral_IsAnotherRecipeAndAnotherShape()
    {
        await Task.Yield();
        var kernels = new KernelCompiler(new CompiledKernelCache(16));
        var input = Enumerable.Range(0, 100).ToArray();

        var over5 = RunChain(Chain(x => x > 5, x => x + 1), input, kernels);
        var over6 = RunChain(Chain(x => x > 6, x => x + 1), input, kernels);

        Assert.Equal(input.Where(x => x > 5).Select(x => x + 1), over5);
        Assert.Equal(input.Where(x => x > 6).Select(x => x + 1), over6);
        Assert.Equal((2L, 0L, 2), (kernels.Cache!.Misses, kernels.Cache.Hits, kernels.Cache.RecipeCount));
    }

    [Fact(Timeout = 30_000)]
    public async Task Compile_BuilderEmbedsAnUndeclaredObject_RecipeIsNotCachedAndEveryKernelIsRight()
    {
        await Task.Yield();
        var kernels = new KernelCompiler(new CompiledKernelCache(16));

        var plus1 = CompileWithBox(kernels, Offset(1), new Box(10), declare: false);
        var plus2 = CompileWithBox(kernels, Offset(2), new Box(20), declare: false);

        Assert.Equal((111, 122), (plus1(100), plus2(100)));
        Assert.Equal(0, kernels.Cache!.RecipeCount);
        Assert.Equal((1L, 1L), (kernels.Cache.Misses, kernels.Cache.Hits)); // the old path: built, shape looked up
    }

    [Fact(Timeout = 30_000)]
    public async Task Compile_BuilderEmbedsADeclaredExtra_RecipeIsCachedAndMapsEachQuerysExtra()
    {
        await Task.Yield();
        var kernels = new KernelCompiler(new CompiledKernelCache(16));

        var plus1 = CompileWithBox(kernels, Offset(1), new Box(10), declare: true);
        var plus2 = CompileWithBox(kernels, Offset(2), new Box(20), declare: true);

        Assert.Equal((111, 122), (plus1(100), plus2(100)));
        Assert.Equal(1, kernels.Cache!.RecipeCount);
        Assert.Equal((1L, 1L), (kernels.Cache.Misses, kernels.Cache.Hits));
    }

    [Fact(Timeout = 30_000)]
    public async Task Compile_RecipeOfAnEvictedShape_CountsAMissAndCompilesAgain()
    {
        await Task.Yield();
        var kernels = new KernelCompiler(new CompiledKernelCache(2));
        var input = Enumerable.Range(0, 64).ToArray();

        _ = RunChain(Chain(x => x > 1, x => x * 2), input, kernels);   // shape A, recipe A
        _ = kernels.Compile<Func<int, int>>(x => x - 1);                 // shape B (no recipe)
        _ = kernels.Compile<Func<int, long>>(x => x * 3L);               // shape C: evicts A; recipe A stays
        int offset = 4;
        var result = RunChain(Chain(x => x > 1, x => (x * 2) + offset), input, kernels); // shape D, recipe D: evicts shape B
        Assert.Equal(input.Where(x => x > 1).Select(x => (x * 2) + 4), result);
        var again = RunChain(Chain(x => x > 1, x => x * 2), input, kernels);          // recipe A: its shape is gone

        Assert.Equal(input.Where(x => x > 1).Select(x => x * 2), again);
        Assert.Equal((5L, 0L), (kernels.Cache!.Misses, kernels.Cache.Hits));
        Assert.True(kernels.Cache.RecipeCount <= 2);
    }

    [Fact(Timeout = 30_000)]
    public async Task Compile_CacheOffOrUncached_BuildsAndCompilesEveryTimeAndKeepsNoRecipe()
    {
        await Task.Yield();
        var off = new KernelCompiler(new CompiledKernelCache(0));
        var input = Enumerable.Range(0, 64).ToArray();

        Assert.Equal(input.Where(x => x > 3), RunChain(Chain(x => x > 3, x => x), input, off));
        Assert.Equal(input.Where(x => x > 3), RunChain(Chain(x => x > 3, x => x), input, off));
        Assert.Equal(input.Where(x => x > 3), RunChain(Chain(x => x > 3, x => x), input, KernelCompiler.Uncached));
        Assert.Equal((0L, 0, 0), (off.Cache!.Hits, off.Cache.Count, off.Cache.RecipeCount));
    }

    [Fact(Timeout = 30_000)]
    public async Task Clear_ForgetsRecipesToo()
    {
        await Task.Yield();
        var kernels = new KernelCompiler(new CompiledKernelCache(16));
        var input = Enumerable.Range(0, 64).ToArray();
        _ = RunChain(Chain(x => x > 3, x => x + 1), input, kernels);

        kernels.Cache!.Clear();

        Assert.Equal((0, 0), (kernels.Cache.Count, kernels.Cache.RecipeCount));
        Assert.Equal(input.Where(x => x > 3).Select(x => x + 1), RunChain(Chain(x => x > 3, x => x + 1), input, kernels));
        Assert.Equal((1L, 0L), (kernels.Cache.Misses, kernels.Cache.Hits));
    }

    [Fact(Timeout = 30_000)]
    public async Task Compile_KernelDropped_RecipeDoesNotKeepItsCapturedObjectAlive()
    {
        await Task.Yield();
        var kernels = new KernelCompiler(new CompiledKernelCache(8));

        var captured = CompileAndDrop(kernels);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.Equal((1, 1), (kernels.Cache!.Count, kernels.Cache.RecipeCount));
        Assert.False(captured.IsAlive, "the recipe entry keeps the captured object of the query that compiled it");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference CompileAndDrop(KernelCompiler kernels)
    {
        var big = new int[1000];
        Expression<Func<int, bool>> filter = x => big[x & 511] == 0;
        Assert.Equal([0, 1, 2], RunChain(Chain(filter, x => x), [0, 1, 2], kernels));
        return new WeakReference(big);
    }

    /// <summary>A filter and a projection capturing one closure object (their display class's, made once per call).</summary>
    internal static (Expression<Func<int, bool>> Filter, Expression<Func<int, int>> Project) Pair(int a) => (x => x > a, x => x * a);

    internal static Expression<Func<int, int>> Offset(int n) => x => x + n;

    internal static PipelineKernelStep[] Chain(Expression<Func<int, bool>> filter, Expression<Func<int, int>> project) =>
        [new(IsFilter: true, filter), new(IsFilter: false, project)];

    internal static List<int> RunChain(PipelineKernelStep[] steps, int[] input, KernelCompiler kernels)
    {
        var kernel = PipelineKernel.Compile<int, int>(steps, kernels);
        var absent = new ulong[(input.Length + 63) / 64];
        var output = new int[input.Length];
        kernel(input, absent, output, input.Length);
        var kept = new List<int>();
        for (int i = 0; i < input.Length; i++)
        {
            if ((absent[i >> 6] & (1UL << (i & 63))) == 0)
            {
                kept.Add(output[i]);
            }
        }

        return kept;
    }

    /// <summary><c>x =&gt; part(x) + box.N</c>, with the box declared as an extra of the recipe or not.</summary>
    internal static Func<int, int> CompileWithBox(KernelCompiler kernels, Expression<Func<int, int>> part, Box box, bool declare, Action? built = null) =>
        kernels.Compile(new KernelRecipe("Test.Box", 0, [part], declare ? [box] : null), () =>
        {
            built?.Invoke();
            var x = Expression.Parameter(typeof(int), "x");
            var body = Expression.Add(LambdaInliner.Inline(part, x), Expression.Property(Expression.Constant(box), nameof(Box.N)));
            return Expression.Lambda<Func<int, int>>(body, x);
        });

    private static IQStream<Row> Query(Bid[] bids, int minPrice, int scale, int cheap) =>
        from b in QStream.From(bids, b => b.Time).Where(b => b.Price >= minPrice).Select(b => new Bid(b.Time, b.Auction, b.Price * scale)).TumblingWindow(TimeSpan.FromTicks(100))
        group b by b.Auction into g
        select new Row(g.Window.End.UtcTicks, g.Key, g.LongCount(), g.Max(x => x.Price + scale), g.Count(x => x.Price < cheap * scale), g.Aggregate(0, (acc, x) => acc ^ (x.Price + minPrice)));

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

/// <summary>The tests that switch <see cref="KernelCompiler.VerifyRecipes"/> (a static): run alone, after the parallel ones.</summary>
[CollectionDefinition(nameof(KernelRecipeSwitchTests), DisableParallelization = true)]
public sealed class KernelRecipeSwitchGroup;

/// <summary>A recipe hit builds no tree (with the safety net off), and the safety net catches a builder that depends on more than its recipe.</summary>
[Collection(nameof(KernelRecipeSwitchTests))]
public sealed class KernelRecipeSwitchTests
{
    [Fact(Timeout = 30_000)]
    public async Task Compile_RecipeHit_BuildsNoTree()
    {
        await Task.Yield();
        var kernels = new KernelCompiler(new CompiledKernelCache(16));
        int builds = 0;
        bool verify = KernelCompiler.VerifyRecipes;
        KernelCompiler.VerifyRecipes = false;
        try
        {
            var kernels1 = KernelRecipeTests.CompileWithBox(kernels, KernelRecipeTests.Offset(1), new(10), declare: true, () => builds++);
            var kernels2 = KernelRecipeTests.CompileWithBox(kernels, KernelRecipeTests.Offset(2), new(20), declare: true, () => builds++);
            var kernels3 = KernelRecipeTests.CompileWithBox(kernels, KernelRecipeTests.Offset(3), new(30), declare: true, () => throw new InvalidOperationException("built on a hit"));

            Assert.Equal(1, builds);
            Assert.Equal((111, 122, 133), (kernels1(100), kernels2(100), kernels3(100)));
            Assert.Equal((1L, 2L), (kernels.Cache!.Misses, kernels.Cache.Hits));
        }
        finally
        {
            KernelCompiler.VerifyRecipes = verify;
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Compile_BuilderDependsOnMoreThanItsRecipe_VerifyThrowsOnTheHit()
    {
        await Task.Yield();
        var kernels = new KernelCompiler(new CompiledKernelCache(16));
        bool verify = KernelCompiler.VerifyRecipes;
        KernelCompiler.VerifyRecipes = true;
        try
        {
            bool negate = false;
            Func<int, int> Compile(Expression<Func<int, int>> part) => kernels.Compile(new KernelRecipe("Test.Negate", 0, [part]), () =>
            {
                var x = Expression.Parameter(typeof(int), "x");
                var body = LambdaInliner.Inline(part, x);
                return Expression.Lambda<Func<int, int>>(negate ? Expression.Negate(body) : body, x);
            });

            Assert.Equal(101, Compile(KernelRecipeTests.Offset(1))(100));
            negate = true; // not in the recipe: the cached kernel is the wrong one
            var error = Assert.Throws<InvalidOperationException>(() => Compile(KernelRecipeTests.Offset(2)));
            Assert.Contains("Test.Negate", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            KernelCompiler.VerifyRecipes = verify;
        }
    }
}

/// <summary>
/// Every kernel builder with a recipe, compiled twice with other captured values: the second compile compiles nothing and (with
/// <see cref="KernelCompiler.VerifyRecipes"/> on for this assembly) each kernel found by its recipe is rebuilt and checked against it.
/// </summary>
public sealed class KernelRecipeKindsTests
{
    private sealed record Ev(long Time, int Kind, long Key, int Value, int[] Tags);

    private readonly record struct Match(long Key, long SellerTime, long ItemTime, int Value);

    private readonly record struct WindowPrice(long WindowStart, long MaxPrice);

    private readonly record struct HighestBid(long Auction, long Price, long WindowStart);

    private static readonly Ev[] Events = [.. Enumerable.Range(0, 600).Select(i => new Ev(i * 5L, i % 3, i % 17, (i * 37) % 100, [i % 3, i % 4]))];

    [Fact(Timeout = 60_000)]
    public async Task JoinSelectManyAggregates_SecondCompileFindsEveryKernelByItsRecipe()
    {
        await Task.Yield();
        IQStream<(long Key, long Count, int Top, int Folded)> Query(int min)
        {
            var left = QStream.From(Events, e => e.Time).Where(e => e.Value >= min);
            var right = QStream.From(Events, e => e.Time + min).ExtendLifetime(TimeSpan.FromTicks(40)).ClipLifetime(e => e.Key);
            // The Where after the join reads both sides (not pushed below it): a chain with its own kernel. The one after the array's
            // ingress is fused with it (IngressPipelineKernel; its own kernel is deferred until a slice falls back).
            var matched = (from l in left join r in right on l.Key equals r.Key select new { l.Key, l.Value, r.Tags }).Where(m => m.Tags.Length + m.Value != min);
            return from m in matched.SelectMany(m => m.Tags, (m, t) => new { m.Key, m.Value, Tag = t + min }).TumblingWindow(TimeSpan.FromTicks(200))
                   group m by m.Key into g
                   select ValueTuple.Create(g.Key, g.LongCount(), g.Max(x => x.Value + x.Tag), g.Aggregate(min, (acc, x) => acc ^ x.Tag));
        }

        var kinds = AssertSecondCompileHitsOnly(Query(20), Query(45));

        Assert.Superset(
            new HashSet<string> { "ColumnKernel", "PipelineKernel", "IngressPipelineKernel", "JoinResultKernel", "SelectManyKernel", "ValueKernel", "FoldColumn", "FoldColumn.Seed", "AggregatePlanner" },
            kinds);
    }

    [Fact(Timeout = 60_000)]
    public async Task MulticastOfAnArray_SecondCompileFindsTheFusedKernelByItsRecipe()
    {
        await Task.Yield();
        IQStream<Match> Query(int max)
        {
            var events = QStream.From(Events, e => e.Time);
            var sellers = from e in events where e.Kind == 0 && e.Value < max select new { e.Key, e.Time };
            var items = from e in events where e.Kind == 1 select new { e.Key, e.Time, Value = e.Value + max };
            return from p in sellers.ExtendLifetime(TimeSpan.FromTicks(50))
                   join a in items on p.Key equals a.Key
                   select new Match(p.Key, p.Time, a.Time, a.Value);
        }

        var kinds = AssertSecondCompileHitsOnly(Query(70), Query(30));

        Assert.Contains("MulticastIngressKernel", kinds);
    }

    [Fact(Timeout = 60_000)]
    public async Task WindowMaximumJoin_SecondCompileFindsTheArgMaxKernelsByTheirRecipes()
    {
        await Task.Yield();
        IQStream<HighestBid> Query(long extra)
        {
            var bids = QStream.From(Array.Empty<LinqStream.Testing.Nexmark.Bid>(), b => b.DateTime, name: "bids");
            var maxima = bids.TumblingWindow(TimeSpan.FromSeconds(10)).Select(w => new WindowPrice(w.Window.StartTicks, w.Max(b => b.Price)));
            return from b in bids.TumblingWindow(TimeSpan.FromSeconds(10))
                   join m in maxima on b.Price equals m.MaxPrice
                   select new HighestBid(b.Auction + extra, b.Price, m.WindowStart);
        }

        var kinds = AssertSecondCompileHitsOnly(Query(1), Query(2));

        Assert.Contains("WindowArgMax.Typed", kinds);
    }

    [Fact(Timeout = 60_000)]
    public async Task ExpiryJoinFold_SecondCompileFindsTheKeyedFoldKernelsByTheirRecipes()
    {
        await Task.Yield();

        var kinds = AssertSecondCompileHitsOnly(ExpiryJoinToKeyedFoldPassTests.Q9(), ExpiryJoinToKeyedFoldPassTests.Q9());

        Assert.True(kinds.Contains("KeyedFoldResult") || kinds.Contains("JoinKeyedFold.Pairs"), string.Join(", ", kinds));
    }

    /// <summary>Compiles both with a fresh cache: the second compiles nothing (one hit per kernel); returns the recipes' kinds.</summary>
    private static HashSet<string> AssertSecondCompileHitsOnly<T>(IQStream<T> first, IQStream<T> second)
    {
        var kernels = new KernelCompiler(new CompiledKernelCache(64));
        _ = QueryCompiler.Compile<T>(first.Expression, kernels);
        (long hits, long misses) = (kernels.Cache!.Hits, kernels.Cache.Misses);
        _ = QueryCompiler.Compile<T>(second.Expression, kernels);

        Assert.Equal(misses, kernels.Cache.Misses);
        Assert.Equal(hits + misses, kernels.Cache.Hits - hits);
        return [.. kernels.Cache.RecipeKinds()];
    }
}
