using System.Buffers;
using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Physical.Windows.KeyedFold;
using Item = LinqStream.Conformance.Tests.Windows.KeyedFoldTests.Item;
using Match = LinqStream.Conformance.Tests.Windows.KeyedFoldTests.Match;
using Offer = LinqStream.Conformance.Tests.Windows.KeyedFoldTests.Offer;

namespace LinqStream.Conformance.Tests.Windows;

/// <summary>
/// The fused join and fold (q9's shape) run again and again in one process (issue #19): its tables' arrays come from the shared
/// array pool and go back at the end of each run, so each run after the first grows into arrays a run before it left dirty (larger
/// or smaller than it needs). Every run must give LINQ to objects' winners, also after a run that failed and one that was stopped;
/// while a run goes, the offers' projection overwrites the pool's arrays with garbage, so a table still holding an array it gave back
/// would read garbage; and at the end the pool holds no array twice.
/// </summary>
public sealed class KeyedFoldRunsAgainTests
{
    private static readonly TimeSpan LookBack = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task WinningOfferPerItem_RunAgainOnDirtyPooledArrays_EachRunGivesLinqToObjects(int seed)
    {
        var large = Generate(seed, items: 6_000);
        var small = Generate(seed + 100, items: 300);
        foreach (var (items, offers) in new[] { large, small, large, small, large })
        {
            await AssertFusedRunGivesTheModel(items, offers, batchSize: seed == 1 ? 64 : 1024, poison: null);
        }

        PoolDirt.AssertNoArrayTwice();
    }

    [Fact]
    public async Task WinningOfferPerItem_PoolOverwrittenWhileTheRunGoes_GivesLinqToObjects()
    {
        var (items, offers) = Generate(3, items: 6_000);
        await AssertFusedRunGivesTheModel(items, offers, batchSize: 256, poison: 0);
        await AssertFusedRunGivesTheModel(items, offers, batchSize: 256, poison: 0);

        PoolDirt.AssertNoArrayTwice();
    }

    [Fact]
    public async Task WinningOfferPerItem_AfterAFailedAndAStoppedRun_RunsAgainAndGivesLinqToObjects()
    {
        var (items, offers) = Generate(4, items: 6_000);
        var expected = KeyedFoldTests.WinnersModel(items, offers);

        // A run that fails half-way (the projection throws on the middle offer): the join's state is released on the failure.
        var failing = Query(items, offers, batchSize: 256, poison: offers[offers.Count / 2].Time.Ticks);
        var error = await Assert.ThrowsAsync<QueryExecutionException>(() => Run.EventsInStartOrder(failing));
        Assert.Contains("The test's failure.", error.ToString(), StringComparison.Ordinal);

        // A run stopped half-way: its tables are left to the collector.
        int seen = 0;
        await foreach (var e in Query(items, offers, batchSize: 256, poison: null).ToStreamEvents())
        {
            if (++seen == expected.Count / 2)
            {
                break;
            }
        }

        await AssertFusedRunGivesTheModel(items, offers, batchSize: 256, poison: null);
        PoolDirt.AssertNoArrayTwice();
    }

    /// <summary>Runs the query (which must be fused) and compares its events with LINQ to objects' winners.</summary>
    private static async Task AssertFusedRunGivesTheModel(List<Item> items, List<Offer> offers, int batchSize, long? poison)
    {
        var query = Query(items, offers, batchSize, poison);
        Assert.Contains("JoinKeyedFold:", RewriteAssert.PhysicalPart(query.Explain()), StringComparison.Ordinal);
        Run.AssertEquivalent(KeyedFoldTests.WinnersModel(items, offers), await Run.EventsInStartOrder(query));
    }

    /// <summary>
    /// q9's shape over <paramref name="items"/>: with <paramref name="poison"/> 0, the offers' projection overwrites the pool's arrays
    /// every few hundred offers; with another value, it throws on the first offer at that time (ticks).
    /// </summary>
    private static IQStream<Match> Query(List<Item> items, List<Offer> offers, int batchSize, long? poison)
    {
        var options = new QueryOptions { Strict = true, BatchSize = batchSize };
        var live = QStream.From(offers, o => o.Time, IngressPolicy.Throw, "offers").WithOptions(options);
        if (poison == 0)
        {
            live = live.Select(o => PoolDirt.Every(o));
        }
        else if (poison is { } time)
        {
            live = live.Select(o => PoolDirt.ThrowAt(o, time));
        }

        var closes = QStream.From(items, i => i.Expires.Ticks - 1, IngressPolicy.Reorder(2 * LookBack), "closes");
        return KeyedFoldTests.WinnerPerItem(
            from i in closes
            join o in live.ExtendLifetime(LookBack) on i.Id equals o.Item
            where o.Time >= i.Opened && o.Price >= i.Reserve
            select new Match(i.Id, i.Category, i.Expires.Ticks, o.Bidder, o.Price, o.Time.Ticks));
    }

    /// <summary>
    /// <paramref name="items"/> items opening every few milliseconds, open up to the look-back (thousands open at once: the tables grow
    /// through many doublings), ids mostly distinct with some shared and the extremes of <c>long</c>; ten offers per item on average,
    /// in time order, on the items' ids and on ids no item has, prices with ties and extremes.
    /// </summary>
    private static (List<Item> Items, List<Offer> Offers) Generate(int seed, int items)
    {
        var random = new Random(seed);
        var list = new List<Item>(items);
        long opened = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
        for (int i = 0; i < items; i++)
        {
            opened += random.NextInt64(0, 40_000);
            long id = random.Next(20) == 0 ? RandomInput.HugeKeys[random.Next(4)] : random.Next(30) == 0 ? random.Next(50) : 1_000_000 + i;
            long expires = opened + random.NextInt64(1, LookBack.Ticks);
            list.Add(new Item(id, random.Next(8), new DateTime(opened, DateTimeKind.Utc), new DateTime(expires, DateTimeKind.Utc), random.Next(5)));
        }

        var offers = new List<Offer>(items * 10);
        long first = list[0].Opened.Ticks, last = list.Max(i => i.Expires.Ticks);
        for (int i = 0; i < items * 10; i++)
        {
            var item = list[random.Next(list.Count)];
            long time = random.Next(10) == 0 ? first + random.NextInt64(0, last - first) : item.Opened.Ticks + random.NextInt64(-1_000, item.Expires.Ticks - item.Opened.Ticks);
            long id = random.Next(25) == 0 ? 5_000_000 + random.Next(100) : item.Id;
            offers.Add(new Offer(id, random.Next(40), RandomInput.ExtremeOrSmall(random, 8, 50), new DateTime(time, DateTimeKind.Utc)));
        }

        offers.Sort((a, b) => a.Time.CompareTo(b.Time));
        return (list, offers);
    }

    /// <summary>What the offers' projection runs: garbage into the shared pool's arrays, or a failure on one price.</summary>
    public static class PoolDirt
    {
        private static int s_calls;

        /// <summary>Every 500th offer: rents a few arrays of every pooled length of the types the fused operator's tables use, fills them with garbage and gives them back.</summary>
        public static Offer Every(Offer offer)
        {
            ArgumentNullException.ThrowIfNull(offer);
            if (Interlocked.Increment(ref s_calls) % 500 == 0)
            {
                FillAll(offer.Bidder % 64);
            }

            return offer;
        }

        public static Offer ThrowAt(Offer offer, long time)
        {
            ArgumentNullException.ThrowIfNull(offer);
            return offer.Time.Ticks == time ? throw new InvalidOperationException("The test's failure.") : offer;
        }

        /// <summary>Rents more arrays of each pooled length than the pool keeps (one per thread, 32 per core): the same array twice would mean one was given back twice.</summary>
        public static void AssertNoArrayTwice()
        {
            Churn(0L, 70);
            Churn(0, 70);
            Churn((byte)0, 70);
            Churn(false, 70);
            Churn(default(FoldGroups<long, (bool, Match)>.Entry), 70);
        }

        private static void FillAll(long value)
        {
            Churn(value, 3);
            Churn((int)value, 3);
            Churn((byte)0xFF, 3);
            Churn(true, 3);
            Churn(new FoldGroups<long, (bool, Match)>.Entry { Close = value, Key = value, State = (true, default) }, 3);
        }

        /// <summary>Rents <paramref name="perLength"/> arrays of every pooled length up to 8,192, checks they are distinct, fills them with <paramref name="garbage"/> and gives them back.</summary>
        private static void Churn<T>(T garbage, int perLength)
        {
            var rented = new List<T[]>();
            var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
            for (int length = 16; length <= 1 << 13; length *= 2)
            {
                for (int k = 0; k < perLength; k++)
                {
                    var array = ArrayPool<T>.Shared.Rent(length);
                    Assert.True(seen.Add(array), $"the pool gave the same {typeof(T).Name}[{length}] twice: it was given back twice");
                    array.AsSpan().Fill(garbage);
                    rented.Add(array);
                }
            }

            rented.ForEach(a => ArrayPool<T>.Shared.Return(a));
        }
    }
}
