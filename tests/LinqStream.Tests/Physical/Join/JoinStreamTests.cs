using LinqStream.Physical.Join.Inner;
using LinqStream.Temporal;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Physical.Join;

public sealed class JoinStreamTests
{
    [Theory]
    [MemberData(nameof(JoinMatrix.Cases), MemberType = typeof(JoinMatrix))]
    public void Join_RandomInputs_MatchesAllOverlappingPairs(int batchSize, string shapeName, long origin)
    {
        var random = new Random(HashCode.Combine(batchSize, shapeName, origin) & 0x7fffffff);
        var shape = JoinMatrix.ShapeNamed(shapeName);
        var left = JoinTestData.Generate(random, shape, origin, firstId: 1);
        var right = JoinTestData.Generate(random, shape, origin, firstId: 1_000_000);

        var actual = JoinTestData.Run(JoinKind.Inner, left, right, batchSize);

        var expected = JoinTestData.Oracle(JoinKind.Inner, left, right);
        Assert.NotEmpty(expected);
        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public void Join_AllEventsStartTogether_MatchesEachPairOnce(int batchSize)
    {
        // Three left and four right events per key, all starting at tick 100: every left-right pair of a key overlaps.
        var left = Enumerable.Range(0, 30).Select(i => new Item(1 + i, i % 10, 100, 101 + i)).ToArray();
        var right = Enumerable.Range(0, 40).Select(i => new Item(1000 + i, i % 10, 100, 100 + (i % 3) + 1)).ToArray();

        var actual = JoinTestData.Run(JoinKind.Inner, left, right, batchSize);

        Assert.Equal(30 * 4, actual.Count);
        Assert.Equal(JoinTestData.Oracle(JoinKind.Inner, left, right), actual);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public void Join_EndTouchesStart_DoesNotMatch(int batchSize)
    {
        // [0, 10) and [10, 20) share no tick; [5, 11) overlaps both.
        Item[] left = [new(1, 0, 0, 10), new(2, 0, 5, 11)];
        Item[] right = [new(3, 0, 10, 20)];

        var actual = JoinTestData.Run(JoinKind.Inner, left, right, batchSize);

        Assert.Equal([(10L, 11L, 2, 3)], actual);
    }

    [Fact]
    public void Join_RandomTiesAndIntervals_MatchesAllOverlappingPairs()
    {
        // Few distinct start times, so most events tie with events of both sides.
        var random = new Random(7);
        var shape = new Shape(Count: 3000, Keys: 5, Spread: 40, MaxDuration: 15, PointRatio: 0.3);
        var left = JoinTestData.Generate(random, shape, origin: -17, firstId: 1);
        var right = JoinTestData.Generate(random, shape, origin: -17, firstId: 100_000);

        foreach (int batchSize in new[] { 1, 7, 4096 })
        {
            Assert.Equal(JoinTestData.Oracle(JoinKind.Inner, left, right), JoinTestData.Run(JoinKind.Inner, left, right, batchSize));
        }
    }

    [Fact]
    public void Join_LifetimesReachInfinity_ResultsEndAtTheEarlierEnd()
    {
        long huge = long.MaxValue / 4;
        Item[] left = [new(1, 0, long.MinValue / 2, long.MaxValue), new(2, 1, huge, long.MaxValue)];
        Item[] right = [new(3, 0, -5, 7), new(5, 0, huge, huge + 2), new(4, 1, huge + 1, long.MaxValue)];

        var actual = JoinTestData.Run(JoinKind.Inner, left, right, batchSize: 7);

        Assert.Equal(JoinTestData.Oracle(JoinKind.Inner, left, right), actual);
        Assert.Contains((huge + 1, long.MaxValue, 2, 4), actual);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Join_EmptySide_EmitsNothingAndCompletes(bool emptyLeft, bool emptyRight)
    {
        var random = new Random(3);
        var shape = new Shape(Count: 500, Keys: 3, Spread: 1000, MaxDuration: 100);
        var left = emptyLeft ? [] : JoinTestData.Generate(random, shape, 0, 1);
        var right = emptyRight ? [] : JoinTestData.Generate(random, shape, 0, 10_000);

        Assert.Empty(JoinTestData.Run(JoinKind.Inner, left, right, batchSize: 7));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4096)]
    public void Join_LeftCompletesEarly_MatchesAllOverlappingPairs(int batchSize)
    {
        // The left input ends (and completes) long before the right one; the right must still be joined with it.
        var random = new Random(11);
        var left = JoinTestData.Generate(random, new Shape(300, 4, 1000, 5000), origin: 0, firstId: 1);
        var right = JoinTestData.Generate(random, new Shape(5000, 4, 100_000, 10), origin: 0, firstId: 10_000);

        Assert.Equal(JoinTestData.Oracle(JoinKind.Inner, left, right), JoinTestData.Run(JoinKind.Inner, left, right, batchSize));
        Assert.Equal(JoinTestData.Oracle(JoinKind.Inner, right, left), JoinTestData.Run(JoinKind.Inner, right, left, batchSize));
    }

    [Fact]
    public void Join_NullKeys_NeverMatch()
    {
        // Keys below zero become null; null on both sides must not match (as in SQL).
        Item[] left = [new(1, -1, 0, 10), new(2, 5, 0, 10), new(3, -1, 4, 6)];
        Item[] right = [new(4, -1, 1, 5), new(5, 5, 2, 3), new(6, -2, 3, 9)];
        var plan = new JoinStream<Item, Item, int?, Pair>(
            JoinTestData.Source(left), JoinTestData.Source(right), JoinTestData.NullableKey, JoinTestData.NullableKey, JoinTestData.Result);

        var actual = JoinTestData.Sorted(Harness.Run(plan, Harness.Options(2)).Events);

        Assert.Equal([(2L, 3L, 2, 5)], actual);
    }

    [Fact]
    public void Join_NullStringKeys_NeverMatch()
    {
        Item[] left = [new(1, -1, 0, 10), new(2, 5, 0, 10)];
        Item[] right = [new(4, -1, 1, 5), new(5, 5, 2, 3)];
        var plan = new JoinStream<Item, Item, string?, Pair>(
            JoinTestData.Source(left), JoinTestData.Source(right),
            (Item x) => x.Key < 0 ? null : "k" + x.Key, (Item x) => x.Key < 0 ? null : "k" + x.Key, JoinTestData.Result);

        var actual = JoinTestData.Sorted(Harness.Run(plan, Harness.Options(7)).Events);

        Assert.Equal([(2L, 3L, 2, 5)], actual);
    }

    [Fact]
    public void Join_ResultSelectorReadsBothSides_BuildsEachResult()
    {
        Item[] left = [new(1, 0, 0, 10)];
        Item[] right = [new(2, 0, 3, 4), new(3, 0, 5, 20)];
        var plan = new JoinStream<Item, Item, int, string>(
            JoinTestData.Source(left), JoinTestData.Source(right), JoinTestData.Key, JoinTestData.Key,
            (Item l, Item r) => $"{l.Id}-{r.Id}:{r.End - l.Start}");

        var events = Harness.Run(plan).Events;

        Assert.Equal([new StreamEvent<string>(3, 4, "1-2:4"), new StreamEvent<string>(5, 10, "1-3:20")], events);
    }

    [Fact]
    public void Join_Explain_ShowsConditionAndBothInputs()
    {
        var plan = new JoinStream<Item, Item, int, Pair>(
            JoinTestData.Source([]), JoinTestData.Source([]), JoinTestData.Key, JoinTestData.Key, JoinTestData.Result);

        Assert.Equal("Join", plan.Name);
        Assert.Contains("x => x.Key equals x => x.Key", plan.Detail, StringComparison.Ordinal);
        Assert.Equal(2, plan.Inputs.Count);
    }
}
