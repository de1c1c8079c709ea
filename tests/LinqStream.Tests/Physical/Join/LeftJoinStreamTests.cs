using LinqStream.Physical.Join.Left;
using LinqStream.Temporal;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Physical.Join;

public sealed class LeftJoinStreamTests
{
    [Theory]
    [MemberData(nameof(JoinMatrix.Cases), MemberType = typeof(JoinMatrix))]
    public void LeftJoin_RandomInputs_MatchesPairsPlusUnmatchedLefts(int batchSize, string shapeName, long origin)
    {
        var random = new Random(HashCode.Combine(batchSize, shapeName, origin, 2) & 0x7fffffff);
        var shape = JoinMatrix.ShapeNamed(shapeName);
        var left = JoinTestData.Generate(random, shape, origin, firstId: 1);
        var right = JoinTestData.Generate(random, shape, origin, firstId: 1_000_000);

        var actual = JoinTestData.Run(JoinKind.LeftOuter, left, right, batchSize);

        var expected = JoinTestData.Oracle(JoinKind.LeftOuter, left, right);
        Assert.Contains(expected, r => r.R == 0);
        Assert.Contains(expected, r => r.R != 0);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void LeftJoin_RandomTiesAndIntervals_MatchesPairsPlusUnmatchedLefts()
    {
        var random = new Random(8);
        var shape = new Shape(Count: 3000, Keys: 20, Spread: 60, MaxDuration: 15, PointRatio: 0.3);
        var left = JoinTestData.Generate(random, shape, origin: long.MaxValue / 4, firstId: 1);
        var right = JoinTestData.Generate(random, shape, origin: long.MaxValue / 4, firstId: 100_000);

        foreach (int batchSize in new[] { 1, 7, 4096 })
        {
            Assert.Equal(JoinTestData.Oracle(JoinKind.LeftOuter, left, right), JoinTestData.Run(JoinKind.LeftOuter, left, right, batchSize));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public void LeftJoin_NoRightEvents_EmitsEveryLeftWithDefault(int batchSize)
    {
        var left = JoinTestData.Generate(new Random(5), new Shape(1000, 10, 500, 100), origin: -1_000_000_000_000_000, firstId: 1);

        var actual = JoinTestData.Run(JoinKind.LeftOuter, left, [], batchSize);

        Assert.Equal(left.Select(l => (l.Start, l.End, l.Id, 0)).OrderBy(x => x), actual);
    }

    [Fact]
    public void LeftJoin_NoLeftEvents_EmitsNothing()
    {
        var right = JoinTestData.Generate(new Random(5), new Shape(1000, 10, 500, 100), origin: 0, firstId: 1);

        Assert.Empty(JoinTestData.Run(JoinKind.LeftOuter, [], right, batchSize: 7));
    }

    [Fact]
    public void LeftJoin_LeftMatchedOnlyPartOfItsLifetime_EmitsOnlyTheMatch()
    {
        // The left event overlaps one right event for a part of its life: no (left, default) result for the rest.
        Item[] left = [new(1, 0, 0, 100)];
        Item[] right = [new(2, 0, 50, 60)];

        Assert.Equal([(50L, 60L, 1, 2)], JoinTestData.Run(JoinKind.LeftOuter, left, right, batchSize: 7));
    }

    [Fact]
    public void LeftJoin_NullLeftKey_EmitsUnmatched()
    {
        Item[] left = [new(1, -1, 0, 10), new(2, 5, 0, 10)];
        Item[] right = [new(3, -1, 1, 5), new(4, 5, 2, 3)];
        var plan = new LeftJoinStream<Item, Item, int?, Pair>(
            JoinTestData.Source(left), JoinTestData.Source(right), JoinTestData.NullableKey, JoinTestData.NullableKey, JoinTestData.Result);

        var actual = JoinTestData.Sorted(Harness.Run(plan, Harness.Options(1)).Events);

        Assert.Equal([(0L, 10L, 1, 0), (2L, 3L, 2, 4)], actual);
    }

    [Fact]
    public void LeftJoin_LongUnmatchedLeft_HoldsOutputWatermarkAtItsStartUntilItEnds()
    {
        // Left 1 lives [0, 1000) and never matches; keys 2 match at every 10 ticks. No watermark may pass 0 before
        // the input watermarks pass 1000, because (left 1, default) starting at 0 is only known then.
        var left = new List<Item> { new(1, 1, 0, 1000) };
        var right = new List<Item>();
        for (int t = 10; t < 2000; t += 10)
        {
            left.Add(new Item(left.Count + 1, 2, t, t + 1));
            right.Add(new Item(10_000 + t, 2, t, t + 1));
        }

        var plan = JoinTestData.Plan(JoinKind.LeftOuter, [.. left], [.. right]);
        var output = Harness.Run(plan, Harness.Options(7));

        Assert.DoesNotContain(output.Watermarks, w => w > 0 && w < 1000);
        Assert.Contains(output.Watermarks, w => w >= 1000 && w < long.MaxValue);
        Assert.Equal(JoinTestData.Oracle(JoinKind.LeftOuter, [.. left], [.. right]), JoinTestData.Sorted(output.Events));
    }

    [Fact]
    public void LeftJoin_ResultSelectorSeesDefaultRight_ForUnmatchedLeft()
    {
        Item[] left = [new(1, 0, 0, 10)];
        var plan = new LeftJoinStream<Item, string?, int, string>(
            JoinTestData.Source(left), Harness.Source(Array.Empty<string?>(), s => 0L), JoinTestData.Key, (string? s) => s!.Length,
            (Item l, string? r) => r ?? "none");

        var events = Harness.Run(plan).Events;

        Assert.Equal([new StreamEvent<string>(0, 10, "none")], events);
    }
}
