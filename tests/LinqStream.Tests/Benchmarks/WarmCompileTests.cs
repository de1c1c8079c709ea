using LinqStream.Benchmarks.Infrastructure;
using LinqStream.Benchmarks.Scenarios.Nexmark;
using LinqStream.Physical.Kernels;
using LinqStream.Query;
using LinqStream.Runtime;
using LinqStream.Runtime.Egress;

namespace LinqStream.Tests.Benchmarks;

/// <summary>
/// Issue #19 (jit9): the NEXMark queries that <c>--profile</c> runs again and again make nothing new to compile after their first
/// subscription. A second compile of the same query over other input takes its plan from the plan cache and every kernel from
/// the kernel cache (so the runtime has no new dynamic method to compile), and both give the model's answer (LINQ to objects).
/// </summary>
public sealed class WarmCompileTests
{
    [Fact(Timeout = 120_000)]
    public async Task Q0_SecondCompileOverOtherInput_HitsBothCachesAndGivesTheModelsAnswer()
    {
        await Task.Yield();
        var query = new Q0PassThrough();
        AssertWarm(query.LinqStream, query.Model);
    }

    [Fact(Timeout = 120_000)]
    public async Task Q5_SecondCompileOverOtherInput_HitsBothCachesAndGivesTheModelsAnswer()
    {
        await Task.Yield();
        var query = new Q5HotItems();
        AssertWarm(query.LinqStream, query.Model);
    }

    private static void AssertWarm<T>(Func<NexmarkInput, IQStream<T>> build, Func<NexmarkInput, IEnumerable<T>> model)
    {
        var (kernels, plans) = (new KernelCompiler(new CompiledKernelCache(64)), new PlanCache(16));
        var first = NexmarkInput.Generate(30_000, 10_000);
        var second = NexmarkInput.Generate(20_000, 4_000); // other events (another rate), another source array

        var firstResults = Run(build(first), kernels, plans);
        (long kernelHits, long kernelMisses, long planHits, long planMisses) = (kernels.Cache!.Hits, kernels.Cache.Misses, plans.Hits, plans.Misses);
        var secondResults = Run(build(second), kernels, plans);

        Assert.True(kernelMisses > 0, "the first compile compiles its kernels");
        Assert.Equal(kernelMisses, kernels.Cache.Misses);                        // nothing compiled for the second
        Assert.Equal(kernelHits + kernelMisses, kernels.Cache.Hits - kernelHits);  // each of its kernels came from the cache
        Assert.Equal(planMisses, plans.Misses);
        Assert.True(plans.Hits > planHits, "the second compile finds the first one's plan");
        Answers.SameMultiset("first input", model(first).ToList(), firstResults);
        Answers.SameMultiset("second input", model(second).ToList(), secondResults);
        Assert.NotEmpty(secondResults);
    }

    private static List<T> Run<T>(IQStream<T> query, KernelCompiler kernels, PlanCache plans)
    {
        var compiled = QueryCompiler.Compile<T>(query.Expression, kernels, plans);
        var sink = new CollectingObserver<T>();
        QueryExecution.Create(compiled.Root, c => new ObserverSink<T>(sink, c), compiled.Options).Run();
        Assert.True(sink.Completed, "the query ran to its end");
        return sink.ResultsOrThrow();
    }
}
