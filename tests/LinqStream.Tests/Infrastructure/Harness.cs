using System.Linq.Expressions;
using LinqStream.Physical.Ingress;
using LinqStream.Physical.Kernels;
using LinqStream.Query;
using LinqStream.Runtime;
using LinqStream.Runtime.Egress;

namespace LinqStream.Tests.Infrastructure;

/// <summary>Runs physical plans directly (no provider) and checks the engine's promises on the way out.</summary>
internal static class Harness
{
    public static QueryOptions Options(int batchSize = 2048) => new() { BatchSize = batchSize, Strict = true };

    /// <summary>A replay source of payloads whose time is given by <paramref name="time"/> (ticks).</summary>
    public static IngressStream<T> Source<T>(IEnumerable<T> items, Expression<Func<T, long>> time, IngressPolicy? policy = null, Expression<Func<T, long>>? end = null) =>
        new(items, EventTimeKernel.Compile<T>(time, end), policy ?? IngressPolicy.Throw, "test");

    /// <summary>Runs to the end; asserts completion, ordering, watermark promises and that every pooled batch came back.</summary>
    public static RecordingSink<T> Run<T>(PhysicalStream<T> root, QueryOptions? options = null, bool expectError = false) =>
        Execute(root, options, expectError).Sink;

    /// <summary>Compiles <paramref name="query"/> through <paramref name="kernels"/>, runs it as <see cref="Run"/> does, and returns its payloads in order.</summary>
    public static List<T> RunQuery<T>(IQStream<T> query, KernelCompiler kernels)
    {
        var compiled = QueryCompiler.Compile<T>(query.Expression, kernels);
        return [.. Run(compiled.Root, compiled.Options).Events.Select(e => e.Payload)];
    }

    /// <summary>As <see cref="Run"/>, and also returns the execution (its context's sources and pools).</summary>
    public static (RecordingSink<T> Sink, QueryExecution Execution) Execute<T>(PhysicalStream<T> root, QueryOptions? options = null, bool expectError = false)
    {
        RecordingSink<T>? sink = null;
        var execution = QueryExecution.Create(root, c => sink = new RecordingSink<T>(c), options ?? Options());
        execution.Run();
        Assert.NotNull(sink);
        if (expectError)
        {
            Assert.NotNull(sink.Error);
        }
        else
        {
            Assert.Null(sink.Error);
            Assert.True(sink.Completed, "the query did not complete");
            Assert.Null(sink.Violation);
            Assert.Equal(long.MaxValue, sink.Watermarks[^1]);
        }

        Assert.Equal(0, execution.Context.OutstandingBatches());
        return (sink, execution);
    }
}
