using LinqStream.Cli.Commands;

namespace LinqStream.Cli.Tests.Commands;

public sealed class CountParsingTests
{
    [Theory]
    [InlineData("10M", 10_000_000)]
    [InlineData("500k", 500_000)]
    [InlineData("2.5M", 2_500_000)]
    [InlineData("1G", 1_000_000_000)]
    [InlineData("1_000_000", 1_000_000)]
    [InlineData("1,000", 1_000)]
    [InlineData("42", 42)]
    public void TryParseCount_WithOrWithoutSuffix_ReadsTheCount(string text, long expected)
    {
        Assert.True(Options.TryParseCount(text, out long value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("M")]
    [InlineData("1.5")]
    [InlineData("1.0000001k")]
    [InlineData("ten")]
    public void TryParseCount_NotACount_ReturnsFalse(string text) => Assert.False(Options.TryParseCount(text, out _));
}
