using System.Text;

namespace LinqStream.Conformance.Tests.Parallel;

/// <summary>
/// What the parallel tests compare: a query's whole output as text, one line per result (start, end, payload), so that two runs
/// are equal only when they give the same results with the same lifetimes in the same order.
/// </summary>
internal static class ParallelOutput
{
    /// <summary>Strict options (a query that cannot run in parallel fails instead of falling back) at a parallelism and batch size.</summary>
    public static QueryOptions Options(int parallelism, int batchSize = 64) => new() { Strict = true, BatchSize = batchSize, Parallelism = parallelism };

    /// <summary>Runs <paramref name="query"/> with <paramref name="options"/> to its end (at most two minutes) and returns its output as text.</summary>
    public static async Task<string> Output<T>(IQStream<T> query, QueryOptions options)
    {
        var text = new StringBuilder();
        await foreach (var e in query.WithOptions(options).ToStreamEvents().WithCancellation(new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token))
        {
            text.Append(e.Start).Append(' ').Append(e.End).Append(' ').Append(e.Payload).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>
    /// Asserts that <paramref name="query"/> (made anew for each run) gives parallelism 1's output, byte for byte, at each of
    /// <paramref name="parallelisms"/> and batch sizes 1, 64 and 4,096, and that its plan at parallelism 2 contains each of
    /// <paramref name="planContains"/> (so the parallel path under test really ran). Parallelism 1's output must not be empty.
    /// </summary>
    public static Task AssertSameAsParallelism1<T>(Func<IQStream<T>> query, int[] parallelisms, params string[] planContains) =>
        AssertSameAsParallelism1(query, parallelisms, static options => options, planContains);

    /// <summary>
    /// As <see cref="AssertSameAsParallelism1{T}(Func{IQStream{T}}, int[], string[])"/>, with the parallel runs' and the plan's options
    /// changed by <paramref name="adjust"/> (e.g. a plan switch turned off); parallelism 1 runs with the plain options.
    /// </summary>
    public static async Task AssertSameAsParallelism1<T>(Func<IQStream<T>> query, int[] parallelisms, Func<QueryOptions, QueryOptions> adjust, params string[] planContains)
    {
        string one = await Output(query(), Options(1));
        Assert.NotEmpty(one);
        if (planContains.Length > 0)
        {
            string plan = query().WithOptions(adjust(Options(2))).Explain();
            foreach (string expected in planContains)
            {
                Assert.Contains(expected, plan, StringComparison.Ordinal);
            }
        }

        foreach (int p in parallelisms)
        {
            foreach (int batch in new[] { 1, 64, 4096 })
            {
                string parallel = await Output(query(), adjust(Options(p, batch)));
                Assert.True(one == parallel, $"Parallelism {p}, batch {batch}: the output differs from parallelism 1 at line {FirstDifference(one, parallel)}.");
            }
        }
    }

    /// <summary>The first line (1-based) at which two outputs differ.</summary>
    public static int FirstDifference(string a, string b)
    {
        var x = a.Split('\n');
        var y = b.Split('\n');
        int i = 0;
        while (i < x.Length && i < y.Length && x[i] == y[i])
        {
            i++;
        }

        return i + 1;
    }
}
