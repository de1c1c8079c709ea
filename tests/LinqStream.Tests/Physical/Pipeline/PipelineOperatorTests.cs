using System.Linq.Expressions;
using LinqStream.Physical.Pipeline;
using LinqStream.Plan;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Physical.Pipeline;

public sealed class PipelineOperatorTests
{
    private static PipelineStep Where<T>(Expression<Func<T, bool>> f) => new(true, f);

    private static PipelineStep Select<T, TR>(Expression<Func<T, TR>> f) => new(false, f);

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
}
