using LinqStream.Physical.Join.Anti;
using LinqStream.Temporal;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Physical.Join;

public sealed class AntiJoinStreamTests
{
    [Theory]
    [MemberData(nameof(JoinMatrix.Cases), MemberType = typeof(JoinMatrix))]
    public void WhereNotExists_RandomInputs_EmitsExactlyTheUnmatchedLefts(int batchSize, string shapeName, long origin)
    {
        var random = new Random(HashCode.Combine(batchSize, shapeName, origin, 3) & 0x7fffffff);
        var shape = JoinMatrix.ShapeNamed(shapeName);
        var left = JoinTestData.Generate(random, shape, origin, firstId: 1);
        var right = JoinTestData.Generate(random, shape, origin, firstId: 1_000_000);

        var actual = JoinTestData.Run(JoinKind.Anti, left, right, batchSize);

        var expected = JoinTestData.Oracle(JoinKind.Anti, left, right);
        Assert.NotEmpty(expected);
        Assert.True(expected.Count < left.Length, "some left events must have a match");
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void WhereNotExists_RandomTiesAndIntervals_EmitsExactlyTheUnmatchedLefts()
    {
        var random = new Random(9);
        var shape = new Shape(Count: 3000, Keys: 40, Spread: 60, MaxDuration: 15, PointRatio: 0.3);
        var left = JoinTestData.Generate(random, shape, origin: -1_000_000_000_000_000, firstId: 1);
        var right = JoinTestData.Generate(random, shape, origin: -1_000_000_000_000_000, firstId: 100_000);

        foreach (int batchSize in new[] { 1, 7, 4096 })
        {
            Assert.Equal(JoinTestData.Oracle(JoinKind.Anti, left, right), JoinTestData.Run(JoinKind.Anti, left, right, batchSize));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4096)]
    public void WhereNotExists_NoRightEvents_EmitsEveryLeftUnchanged(int batchSize)
    {
        var left = JoinTestData.Generate(new Random(6), new Shape(1000, 1, 300, 50), origin: long.MaxValue / 4, firstId: 1);
        var plan = new AntiJoinStream<Item, Item, int>(JoinTestData.Source(left), JoinTestData.Source([]), JoinTestData.Key, JoinTestData.Key);

        var events = Harness.Run(plan, Harness.Options(batchSize)).Events;

        Assert.Equal(
            left.Select(l => new StreamEvent<Item>(l.Start, l.End, l)).OrderBy(e => (e.Start, e.End, e.Payload.Id)),
            events.OrderBy(e => (e.Start, e.End, e.Payload.Id)));
    }

    [Fact]
    public void WhereNotExists_NoLeftEvents_EmitsNothing()
    {
        var right = JoinTestData.Generate(new Random(6), new Shape(1000, 1, 300, 50), origin: 0, firstId: 1);

        Assert.Empty(JoinTestData.Run(JoinKind.Anti, [], right, batchSize: 7));
    }

    [Fact]
    public void WhereNotExists_RightStartsAtLeftEnd_KeepsTheLeft()
    {
        // [0, 10) and [10, 20) do not overlap; [20, 30) meets [25, 26) from the right.
        Item[] left = [new(1, 0, 0, 10), new(2, 0, 20, 30)];
        Item[] right = [new(3, 0, 10, 20), new(4, 0, 25, 26)];

        Assert.Equal([(0L, 10L, 1, 0)], JoinTestData.Run(JoinKind.Anti, left, right, batchSize: 1));
    }

    [Fact]
    public void WhereNotExists_NullLeftKey_IsAlwaysEmitted()
    {
        Item[] left = [new(1, -1, 0, 10), new(2, 5, 0, 10)];
        Item[] right = [new(3, -1, 1, 5), new(4, 5, 2, 3)];
        var plan = new AntiJoinStream<Item, Item, int?>(
            JoinTestData.Source(left), JoinTestData.Source(right), JoinTestData.NullableKey, JoinTestData.NullableKey);

        var events = Harness.Run(plan, Harness.Options(7)).Events;

        Assert.Equal([new StreamEvent<Item>(0, 10, left[0])], events);
    }

    [Fact]
    public void WhereNotExists_LongUndecidedLeft_HoldsOutputWatermarkAtItsStart()
    {
        // Left 1 lives [5, 500) and is met by nothing; short lefts after it are decided sooner but must wait behind it.
        var left = new List<Item> { new(1, 1, 5, 500) };
        for (int t = 10; t < 1000; t += 10)
        {
            left.Add(new Item(left.Count + 1, 2, t, t + 3));
        }

        Item[] right = [new(5000, 3, 0, 2000)];
        var output = Harness.Run(JoinTestData.Plan(JoinKind.Anti, [.. left], right), Harness.Options(7));

        Assert.DoesNotContain(output.Watermarks, w => w > 5 && w < 500);
        Assert.Equal(JoinTestData.Oracle(JoinKind.Anti, [.. left], right), JoinTestData.Sorted(output.Events));
    }
}
