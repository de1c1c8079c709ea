using LinqStream.Conformance.Tests.Infrastructure;

namespace LinqStream.Conformance.Tests.Operators;

/// <summary>Lifetime operators through the public API: ShiftTime, ExtendLifetime, ClipLifetime, checked on the events' lifetimes.</summary>
public sealed class LifetimeOperatorTests
{
    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task ShiftTime_Forward_MovesEveryEventByTheOffset(Scenario scenario)
    {
        var offset = TimeSpan.FromSeconds(3);
        var sources = new Sources(NexmarkData.Get(10_000, scenario), scenario);
        var query = sources.Bids.ShiftTime(offset).Select(b => new { b.Auction, b.Price });

        var actual = await Run.EventsAsync(query, scenario, sources);

        var expected = sources.Data.Bids.OrderBy(b => b.DateTime).Select(b => Run.Point(b.DateTime + offset, new { b.Auction, b.Price }));
        Run.AssertSequence(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task ClipLifetime_AfterExtend_EndsEachBidAtTheNextLaterBidOfItsAuction(Scenario scenario)
    {
        var life = TimeSpan.FromSeconds(2);
        var sources = new Sources(NexmarkData.Get(10_000, scenario), scenario);
        var query = sources.Bids.ExtendLifetime(life).ClipLifetime(b => b.Auction).Select(b => new { b.Auction, b.Bidder, b.Price });

        var actual = await Run.EventsAsync(query, scenario, sources);

        var expected = new List<StreamEvent<(long Auction, long Bidder, long Price)>>();
        foreach (var auction in sources.Data.Bids.GroupBy(b => b.Auction))
        {
            var sorted = auction.OrderBy(b => b.DateTime).ToList();
            foreach (var b in sorted)
            {
                long start = b.DateTime.Ticks;
                long end = start + 1 + life.Ticks;
                var next = sorted.FirstOrDefault(n => n.DateTime.Ticks > start);
                if (next is not null)
                {
                    end = Math.Min(end, next.DateTime.Ticks);
                }

                expected.Add(Run.Event(start, end, (b.Auction, b.Bidder, b.Price)));
            }
        }

        Assert.Contains(expected, e => e.End - e.Start < life.Ticks);
        Assert.Contains(expected, e => e.End - e.Start == life.Ticks + 1);
        Run.AssertEquivalent(expected, actual.Select(e => Run.Event(e.Start, e.End, (e.Payload.Auction, e.Payload.Bidder, e.Payload.Price))));
    }

    [Theory]
    [MemberData(nameof(Matrix.All), MemberType = typeof(Matrix))]
    public async Task ExtendLifetime_ThenTumblingWindow_CountsByStartOnly(Scenario scenario)
    {
        var size = TimeSpan.FromSeconds(2);
        var sources = new Sources(NexmarkData.Get(10_000, scenario), scenario);
        var query = sources.Bids.ExtendLifetime(TimeSpan.FromSeconds(5)).TumblingWindow(size).Select(w => new { Bids = w.Count() });

        var actual = await Run.EventsAsync(query, scenario, sources);

        var expected = Testing.ReferenceWindows.Fixed(sources.Data.Bids.Select(b => (b.DateTime.Ticks, b)), size.Ticks, size.Ticks, b => 0, w => new { Bids = w.Count() })
            .Select(r => Run.Event(r.Start, r.End, r.Result));
        Run.AssertEquivalent(expected, actual);
    }
}
