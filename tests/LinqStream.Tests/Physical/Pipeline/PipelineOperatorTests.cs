using System.Linq.Expressions;
using LinqStream.Physical.Pipeline;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Physical.Pipeline;

public sealed class PipelineOperatorTests
{
    private static PipelineKernelStep Where<T>(Expression<Func<T, bool>> f) => new(true, f);

    private static PipelineKernelStep Select<T, TR>(Expression<Func<T, TR>> f) => new(false, f);

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public void FusedChain_RandomInput_MatchesLinqToObjects(int batchSize)
    {
        var random = new Random(batchSize);
        var input = Enumerable.Range(0, 10_000).Select(i => (Time: (long)i * 3, Value: random.Next(-1000, 1000))).ToArray();
        var source = Harness.Source(input, x => x.Time);
        var plan = new PipelineStream<(long Time, int Value), string>(source,
        [
            Where<(long Time, int Value)>(x => x.Value % 3 != 0),
            Select<(long Time, int Value), long>(x => (long)x.Value * 7),
            Where<long>(v => v > -500),
            Select<long, string>(v => "v" + v),
        ]);

        var output = Harness.Run(plan, Harness.Options(batchSize));

        var expected = input.Where(x => x.Value % 3 != 0).Select(x => (x.Time, V: (long)x.Value * 7)).Where(x => x.V > -500)
            .Select(x => new StreamEvent<string>(x.Time, x.Time + 1, "v" + x.V)).ToList();
        Assert.Equal(expected, output.Events);
    }

    /// <summary>Batch sizes × the share of events the chain keeps: below a quarter a batch goes on compacted, above it as it is.</summary>
    public static TheoryData<int, int> SparseAndDense()
    {
        var data = new TheoryData<int, int>();
        foreach (int batchSize in (int[])[1, 7, 64, 4096])
        {
            foreach (int keepPercent in (int[])[0, 1, 20, 25, 26, 60, 100])
            {
                data.Add(batchSize, keepPercent);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SparseAndDense))]
    public void Projection_SparseOrDenseOutput_MatchesLinqToObjects(int batchSize, int keepPercent)
    {
        var input = Input(batchSize * 100 + keepPercent);
        var source = Harness.Source(input, x => x.Time, end: x => x.End);
        var plan = new PipelineStream<(long Time, long End, int Value), string>(source,
        [
            Where<(long Time, long End, int Value)>(x => x.Value < keepPercent),
            Select<(long Time, long End, int Value), string>(x => "v" + x.Value),
        ]);

        var output = Harness.Run(plan, Harness.Options(batchSize));

        var expected = input.Where(x => x.Value < keepPercent).Select(x => new StreamEvent<string>(x.Time, x.End, "v" + x.Value)).ToList();
        Assert.Equal(expected, output.Events);
    }

    [Theory]
    [MemberData(nameof(SparseAndDense))]
    public void Filter_SparseOrDenseOutput_MatchesLinqToObjects(int batchSize, int keepPercent)
    {
        var input = Input(batchSize * 100 + keepPercent + 1);
        var source = Harness.Source(input, x => x.Time, end: x => x.End);
        var plan = new PipelineStream<(long Time, long End, int Value), (long Time, long End, int Value)>(source,
            [Where<(long Time, long End, int Value)>(x => x.Value < keepPercent)]);

        var output = Harness.Run(plan, Harness.Options(batchSize));

        var expected = input.Where(x => x.Value < keepPercent).Select(x => new StreamEvent<(long, long, int)>(x.Time, x.End, x)).ToList();
        Assert.Equal(expected, output.Events);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(4096)]
    public void SparseProjection_ThenAnotherChain_MatchesLinqToObjects(int batchSize)
    {
        // Unfused: the second chain gets the first one's compacted batches (and compacts again when it keeps few of them).
        var input = Input(batchSize);
        var source = Harness.Source(input, x => x.Time, end: x => x.End);
        var first = new PipelineStream<(long Time, long End, int Value), int>(source,
        [
            Where<(long Time, long End, int Value)>(x => x.Value < 10),
            Select<(long Time, long End, int Value), int>(x => x.Value),
        ]);
        var plan = new PipelineStream<int, int>(first, [Where<int>(v => v % 3 == 0)]);

        var output = Harness.Run(plan, Harness.Options(batchSize));

        var expected = input.Where(x => x.Value < 10 && x.Value % 3 == 0).Select(x => new StreamEvent<int>(x.Time, x.End, x.Value)).ToList();
        Assert.Equal(expected, output.Events);
    }

    [Fact]
    public void Where_AllFilteredOut_EmitsNothingAndReturnsBatches()
    {
        var source = Harness.Source(Enumerable.Range(0, 5000).ToList(), x => (long)x);
        var plan = new PipelineStream<int, int>(source, [Where<int>(x => x < 0)]);
        var output = Harness.Run(plan);
        Assert.Empty(output.Events);
    }

    [Fact]
    public void Where_PredicateThrows_ForwardsErrorNamingTheExpression()
    {
        var source = Harness.Source(Enumerable.Range(0, 100).ToArray(), x => (long)x);
        var plan = new PipelineStream<int, int>(source, [Where<int>(x => 10 / (x - 50) > 0)]);
        var output = Harness.Run(plan, expectError: true);
        var error = Assert.IsType<QueryExecutionException>(output.Error);
        Assert.Equal("Where", error.Operator);
        Assert.Contains("(x - 50)", error.Message, StringComparison.Ordinal);
        Assert.IsType<DivideByZeroException>(error.InnerException);
    }

    /// <summary>20,000 events in start order with ties, lifetimes of 1 to 30 ticks, and a value uniform in 0..99.</summary>
    private static (long Time, long End, int Value)[] Input(int seed)
    {
        var random = new Random(seed);
        var input = new (long Time, long End, int Value)[20_000];
        long t = 0;
        for (int i = 0; i < input.Length; i++)
        {
            t += random.Next(0, 3);
            input[i] = (t, t + random.Next(1, 31), random.Next(100));
        }

        return input;
    }
}
