using LinqStream.Parallel.TwoPhase;

namespace LinqStream.Tests.Parallel;

public sealed class ExactTypesTests
{
    public sealed record ExactRecord(long Id, string? Name);

    public sealed record InexactRecord(long Id, double Weight);

    public sealed class PlainClass
    {
        public long Id { get; init; }
    }

    public enum Color
    {
        Red,
        Blue,
    }

    [Theory]
    [InlineData(typeof(int))]
    [InlineData(typeof(long?))]
    [InlineData(typeof(char))]
    [InlineData(typeof(Guid))]
    [InlineData(typeof(Color))]
    [InlineData(typeof(TimeSpan))]
    public void IsExactValue_IntegersEnumsAndTheLike_AreExact(Type type) => Assert.True(ExactTypes.IsExactValue(type));

    [Theory]
    [InlineData(typeof(double))]
    [InlineData(typeof(float?))]
    [InlineData(typeof(decimal))]
    [InlineData(typeof(DateTime))]
    [InlineData(typeof(DateTimeOffset))]
    [InlineData(typeof(string))]
    public void IsExactValue_ValuesThatCompareEqualButDiffer_AreNotExact(Type type) => Assert.False(ExactTypes.IsExactValue(type));

    [Fact]
    public void IsExactKey_StringsTuplesAnonymousTypesAndRecordsOfExactMembers_AreExact()
    {
        Assert.True(ExactTypes.IsExactKey(typeof(string)));
        Assert.True(ExactTypes.IsExactKey(typeof((long, string))));
        Assert.True(ExactTypes.IsExactKey(typeof(Tuple<int, Color>)));
        Assert.True(ExactTypes.IsExactKey(new { Id = 1L, Name = "a" }.GetType()));
        Assert.True(ExactTypes.IsExactKey(typeof(ExactRecord)));
    }

    [Fact]
    public void IsExactKey_KeysThatCanBeEqualWithoutBeingTheSame_AreNotExact()
    {
        Assert.False(ExactTypes.IsExactKey(typeof(double)));
        Assert.False(ExactTypes.IsExactKey(typeof((long, decimal))));
        Assert.False(ExactTypes.IsExactKey(new { Id = 1L, At = DateTime.MinValue }.GetType()));
        Assert.False(ExactTypes.IsExactKey(typeof(InexactRecord)));
        Assert.False(ExactTypes.IsExactKey(typeof(PlainClass)));
    }
}
