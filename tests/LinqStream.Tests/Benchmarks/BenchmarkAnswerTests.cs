using LinqStream.Benchmarks.Infrastructure;

namespace LinqStream.Tests.Benchmarks;

/// <summary>
/// The benchmarks' answer checks at a small scale (what <c>dotnet run --project benchmarks/LinqStream.Benchmarks -- --quick</c> runs),
/// so CI fails when a benchmarked query, its Rx.NET baseline or its hand-written loop stops giving the naive model's answer.
/// No timing is asserted.
/// </summary>
[Trait("Category", "Slow")] // Slow (fast suite skips it): runs every benchmark at small scale
public sealed class BenchmarkAnswerTests
{
    public static TheoryData<string> Checks => [.. AnswerChecks.Names];

    [Theory]
    [MemberData(nameof(Checks))]
    public void Benchmark_AtSmallScale_GivesTheModelsAnswer(string benchmark)
    {
        string summary = AnswerChecks.Run(benchmark);
        Assert.False(string.IsNullOrEmpty(summary));
    }

    [Fact]
    public void AnswerChecks_CoverEveryNexmarkQuery()
    {
        string[] expected =
        [
            "Q0PassThrough", "Q1CurrencyConversion", "Q2Selection", "Q3LocalItemSuggestion", "Q4AveragePriceByCategory", "Q5HotItems",
            "Q6AverageSellingPriceBySeller",
            "Q7HighestBid", "Q8NewUsers", "Q9WinningBids", "Q11UserSessions", "TopKBids", "DistinctCountByChannel",
        ];
        Assert.Empty(expected.Except(AnswerChecks.Names));
    }
}
