using LinqStream.Testing.Nexmark;

namespace LinqStream.Orleans.Tests;

/// <summary>What a job definition is given and refuses; nothing here reaches a server (the store and sinks connect lazily).</summary>
public sealed class ClusterJobContextTests
{
    private static ClusterJobContext CreateSut(Dictionary<string, string>? parameters = null, long epoch = 3)
    {
        var fence = new RedisFence("lsq:job:j1:epoch", epoch);
        var submission = new JobSubmission { Definition = "q5", Parameters = parameters ?? [] };
        return new ClusterJobContext("j1", submission, fence, "127.0.0.1:1", new RedisCheckpointStore("127.0.0.1:1", "lsq:job:j1", fence), new JobMetrics("j1"), new EmptyServices());
    }

    private static IQStream<HotItem> Query() => HotItems.Over(QStream.From(Array.Empty<Bid>(), b => b.DateTime));

    [Fact]
    public void Parameter_Missing_ThrowsNamingTheJobTheParameterAndWhatTheSubmissionHas()
    {
        var context = CreateSut(new() { ["output"] = "o", ["count"] = "1" });
        var error = Assert.Throws<ArgumentException>(() => context.Parameter("seed"));
        Assert.Contains("'j1'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'seed'", error.Message, StringComparison.Ordinal);
        Assert.Contains("count, output", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_RedisSinkWithoutTheActivationsFence_Throws()
    {
        var context = CreateSut();
        var sink = new RedisStreamSink<HotItem>("127.0.0.1:1", "out", HotItems.Json);
        var error = Assert.Throws<InvalidOperationException>(() => context.Run(Query(), sink));
        Assert.Contains("not fenced", error.Message, StringComparison.Ordinal);
        Assert.Contains("epoch 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_RedisSinkFencedByAnOlderEpoch_Throws()
    {
        var context = CreateSut();
        var sink = new RedisStreamSink<HotItem>("127.0.0.1:1", "out", HotItems.Json, new RedisStreamSinkOptions { Fence = context.Fence with { Epoch = 2 } });
        Assert.Throws<InvalidOperationException>(() => context.Run(Query(), sink));
    }

    [Fact]
    public async Task Run_FencedRedisSink_UsesTheFencedStoreAndIsExactlyOnce()
    {
        var context = CreateSut();
        var sink = new RedisStreamSink<HotItem>("127.0.0.1:1", "out", HotItems.Json, new RedisStreamSinkOptions { Fence = context.Fence });
        await using var run = context.Run(Query(), sink);
        Assert.Equal(DeliveryGuarantee.ExactlyOnce, run.Guarantee);
        Assert.Empty(run.Warnings);
        Assert.Same(context.Checkpoints, context.Options.Checkpoints);
        Assert.Equal(3, context.Epoch);
    }

    [Fact]
    public void AddJob_SameNameTwice_Throws()
    {
        var options = new LinqStreamSiloOptions().AddJob("q5", GatedJob.Create);
        var error = Assert.Throws<ArgumentException>(() => options.AddJob("q5", GatedJob.Create));
        Assert.Contains("'q5'", error.Message, StringComparison.Ordinal);
    }

    private sealed class EmptyServices : IServiceProvider
    {
        public object? GetService(Type serviceType) => null;
    }
}
