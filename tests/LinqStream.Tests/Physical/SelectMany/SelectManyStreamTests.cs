using System.Linq.Expressions;
using LinqStream.Physical.SelectMany;
using LinqStream.Tests.Infrastructure;
using LinqStream.Tests.Physical.Lifetime;

namespace LinqStream.Tests.Physical.SelectMany;

public sealed class SelectManyStreamTests
{
    public static TheoryData<int, long> Cases => RandomEvents.BatchSizesAndBases();

    private static List<StreamEvent<TOut>> Oracle<TOut>(Ev[] input, Func<Ev, IEnumerable<TOut>> selector) =>
        RandomEvents.AsEvents(input).SelectMany(e => selector(e.Payload).Select(v => new StreamEvent<TOut>(e.Start, e.End, v))).ToList();

    private static SelectManyStream<Ev, TOut> CreateSut<TOut, TSeq>(Ev[] input, Expression<Func<Ev, TSeq>> selector)
        where TSeq : IEnumerable<TOut>? => new(RandomEvents.Source(input), selector);

    [Theory]
    [MemberData(nameof(Cases))]
    public void SelectMany_ArrayResult_MatchesLinqToObjects(int batchSize, long baseTime)
    {
        var input = RandomEvents.Generate(batchSize, 10_000, 10, baseTime);
        Expression<Func<Ev, long[]>> selector = x => Enumerable.Range(0, x.Id % 4).Select(j => (x.Id * 10L) + j).ToArray();
        var output = Harness.Run(CreateSut<long, long[]>(input, selector), Harness.Options(batchSize));
        Assert.Equal(Oracle(input, selector.Compile()), output.Events);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SelectMany_ListResult_MatchesLinqToObjects(int batchSize, long baseTime)
    {
        var input = RandomEvents.Generate(batchSize, 10_000, 10, baseTime);
        Expression<Func<Ev, List<string>>> selector = x => Enumerable.Range(0, x.Key % 3).Select(j => x.Id + ":" + j).ToList();
        var output = Harness.Run(CreateSut<string, List<string>>(input, selector), Harness.Options(batchSize));
        Assert.Equal(Oracle(input, selector.Compile()), output.Events);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SelectMany_LazySequence_MatchesLinqToObjects(int batchSize, long baseTime)
    {
        var input = RandomEvents.Generate(batchSize, 10_000, 10, baseTime);
        Expression<Func<Ev, IEnumerable<int>>> selector = x => Enumerable.Range(x.Id, x.Key % 5).Where(v => v % 2 == 0);
        var output = Harness.Run(CreateSut<int, IEnumerable<int>>(input, selector), Harness.Options(batchSize));
        Assert.Equal(Oracle(input, selector.Compile()), output.Events);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public void SelectMany_ManyOutputsPerEvent_FillsSeveralBatchesInOrder(int batchSize)
    {
        var input = RandomEvents.Generate(4, 200, 10, 0);
        Expression<Func<Ev, int[]>> selector = x => Enumerable.Range(x.Id * 10_000, 1_000).ToArray();
        var output = Harness.Run(CreateSut<int, int[]>(input, selector), Harness.Options(batchSize));
        Assert.Equal(Oracle(input, selector.Compile()), output.Events);
    }

    [Fact]
    public void SelectMany_EveryResultEmpty_EmitsNothingAndReturnsBatches()
    {
        var input = RandomEvents.Generate(5, 5_000, 10, 0);
        Assert.Empty(Harness.Run(CreateSut<int, int[]>(input, x => Array.Empty<int>()), Harness.Options(7)).Events);
    }

    [Fact]
    public void SelectMany_EmptyInput_CompletesWithNoEvents() =>
        Assert.Empty(Harness.Run(CreateSut<int, int[]>([], x => new[] { x.Id })).Events);

    [Fact]
    public void SelectMany_SelectorThrows_ForwardsErrorNamingTheExpression()
    {
        var input = RandomEvents.Generate(6, 100, 10, 0);
        var output = Harness.Run(CreateSut<int, int[]>(input, x => new[] { 10 / (x.Id - 50) }), Harness.Options(7), expectError: true);
        var error = Assert.IsType<QueryExecutionException>(output.Error);
        Assert.Equal("SelectMany", error.Operator);
        Assert.Contains("(x.Id - 50)", error.Message, StringComparison.Ordinal);
        Assert.IsType<DivideByZeroException>(error.InnerException);
    }

    [Fact]
    public void SelectMany_EnumerationThrows_ForwardsError()
    {
        var input = RandomEvents.Generate(7, 100, 10, 0);
        var output = Harness.Run(CreateSut<int, IEnumerable<int>>(input, x => Enumerable.Range(0, 2).Select(j => 10 / (x.Id - 50 + j))), Harness.Options(7), expectError: true);
        Assert.IsType<DivideByZeroException>(Assert.IsType<QueryExecutionException>(output.Error).InnerException);
    }

    [Fact]
    public void SelectMany_SelectorReturnsNull_ForwardsError()
    {
        var input = RandomEvents.Generate(8, 100, 10, 0);
        var output = Harness.Run(CreateSut<int, int[]?>(input, x => x.Id == 30 ? null : new[] { x.Id }), expectError: true);
        Assert.IsType<InvalidOperationException>(Assert.IsType<QueryExecutionException>(output.Error).InnerException);
    }
}
