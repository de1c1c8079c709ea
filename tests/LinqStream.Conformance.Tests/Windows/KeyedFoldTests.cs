using LinqStream.Conformance.Tests.Infrastructure;

namespace LinqStream.Conformance.Tests.Windows;

/// <summary>
/// The plan rewrite <c>ExpiryJoinToKeyedFold</c> (issue #19): "the best matching event per key, closed by the key's own expiry"
/// (NEXMark q9's shape: closes joined with the bids of the last <c>D</c>, a one-tick window per key, a commutative user aggregate)
/// runs as one fold per open key. Both plans run on the same random input (closes and offers out of order, keys with no offer,
/// ties, duplicate and huge keys, lifetimes longer than the look-back) and must give the same events, lifetimes and order; both
/// must agree with LINQ to objects.
/// </summary>
public sealed class KeyedFoldTests
{
    private static readonly DateTime Origin = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan LookBack = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan OfferDisorder = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Hold = TimeSpan.FromSeconds(2);

    /// <summary>An item on offer from <see cref="Opened"/> until <see cref="Expires"/>, with a reserve price.</summary>
    public sealed record Item(long Id, long Category, DateTime Opened, DateTime Expires, long Reserve);

    /// <summary>An offer on an item.</summary>
    public sealed record Offer(long Item, long Bidder, long Price, DateTime Time);

    /// <summary>A matched offer (what the join's projection makes), and the winner per item.</summary>
    public readonly record struct Match(long Item, long Category, long Expires, long Bidder, long Price, long Time);

    /// <summary>The highest price, then the earliest, then the lowest bidder, then every other field: a total order over the whole value.</summary>
    [CommutativeAggregate]
    public readonly struct BestOffer : IAggregate<Match, (bool Any, Match Best), Match>
    {
        public (bool Any, Match Best) Initial() => (false, default);

        public (bool Any, Match Best) Add((bool Any, Match Best) state, Match input) => !state.Any || Beats(input, state.Best) ? (true, input) : state;

        public Match Result((bool Any, Match Best) state) => state.Best;

        public static bool Beats(Match a, Match b) =>
            a.Price != b.Price ? a.Price > b.Price
            : a.Time != b.Time ? a.Time < b.Time
            : a.Bidder != b.Bidder ? a.Bidder < b.Bidder
            : a.Item != b.Item ? a.Item < b.Item
            : a.Category != b.Category ? a.Category < b.Category
            : a.Expires < b.Expires;
    }

    /// <summary>How many matches and the sum of their prices (wrapping, so the order of additions does not matter).</summary>
    [CommutativeAggregate]
    public readonly struct CountAndSum : IAggregate<long, (long Count, long Sum), (long Count, long Sum)>
    {
        public (long Count, long Sum) Initial() => (0, 0);

        public (long Count, long Sum) Add((long Count, long Sum) state, long input) => (state.Count + 1, unchecked(state.Sum + input));

        public (long Count, long Sum) Result((long Count, long Sum) state) => state;
    }

    public static TheoryData<int, int, bool> Cases() => RandomInput.Cases();

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task WinningOfferPerItem_RandomInput_RewrittenPlanGivesTheJoinPlansEvents(int seed, int batchSize, bool disordered)
    {
        var (items, offers) = Generate(seed, disordered);
        IQStream<Match> Query(QueryOptions options) => WinnerPerItem(Matches(items, offers, disordered, options));

        var expected =
            (from p in Pairs(items, offers)
             group p.Match by (p.Close, p.Match.Item) into g
             select Run.Event(g.Key.Close, g.Key.Close + 1, g.Aggregate(new BestOffer()))).ToList();
        await AssertBothPlans(Query, batchSize, expected);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task CountAndSumPerCategory_KeyIsNotTheJoinKey_RewrittenPlanGivesTheJoinPlansEvents(int seed, int batchSize, bool disordered)
    {
        var (items, offers) = Generate(seed, disordered);
        IQStream<(long Category, long Start, (long Count, long Sum) Totals)> Query(QueryOptions options) =>
            from m in Matches(items, offers, disordered, options).TumblingWindow(TimeSpan.FromTicks(1))
            group m.Price by m.Category into g
            select ValueTuple.Create(g.Key, g.Window.StartTicks, g.Aggregate(new CountAndSum()));

        var expected =
            (from p in Pairs(items, offers)
             group p.Match.Price by (p.Close, p.Match.Category) into g
             select Run.Event(g.Key.Close, g.Key.Close + 1, (g.Key.Category, g.Key.Close, g.Aggregate(new CountAndSum())))).ToList();
        await AssertBothPlans(Query, batchSize, expected);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task WinningOfferPerItem_JoinedPairGroupedDirectly_RewrittenPlanGivesTheJoinPlansEvents(int seed, int batchSize, bool disordered)
    {
        // No projection after the join: the window's key and the aggregate's input read the transparent identifier's members, which
        // the rewrite turns into a struct pair.
        var (items, offers) = Generate(seed, disordered);
        IQStream<Match> Query(QueryOptions options)
        {
            var (live, closes) = Inputs(items, offers, disordered, options);
            var pairs =
                from i in closes
                join o in live on i.Id equals o.Item
                where o.Time >= i.Opened && o.Price >= i.Reserve
                select new { i, o };
            return
                from m in pairs.TumblingWindow(TimeSpan.FromTicks(1))
                group new Match(m.i.Id, m.i.Category, m.i.Expires.Ticks, m.o.Bidder, m.o.Price, m.o.Time.Ticks) by m.i.Id into g
                select g.Aggregate(new BestOffer());
        }

        await AssertBothPlans(Query, batchSize, WinnersModel(items, offers));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task WinningOfferPerItem_TransparentIdentifierReadWhole_RewrittenPlanGivesTheJoinPlansEvents(int seed, int batchSize, bool disordered)
    {
        // 'let' reads the join's transparent identifier as a whole: the rewrite keeps it an object.
        var (items, offers) = Generate(seed, disordered);
        IQStream<Match> Query(QueryOptions options)
        {
            var (live, closes) = Inputs(items, offers, disordered, options);
            var matches =
                from i in closes
                join o in live on i.Id equals o.Item
                let price = o.Price
                where o.Time >= i.Opened && price >= i.Reserve
                select new Match(i.Id, i.Category, i.Expires.Ticks, o.Bidder, price, o.Time.Ticks);
            return WinnerPerItem(matches);
        }

        await AssertBothPlans(Query, batchSize, WinnersModel(items, offers));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task WinningOfferPerItem_FusedJoinAndFold_GivesTheSeparateOperatorsEvents(int seed, int batchSize, bool disordered)
    {
        // JoinKeyedFoldFusion (QueryOptions.Fuse): the join, its chain and the fold as one operator, against the three operators.
        var (items, offers) = Generate(seed, disordered);
        IQStream<Match> Query(QueryOptions options) => WinnerPerItem(Matches(items, offers, disordered, options));

        var fused = new QueryOptions { Strict = true, BatchSize = batchSize };
        var separate = fused with { Fuse = false };
        Assert.Contains("JoinKeyedFoldFusion: applied", Query(fused).Explain(), StringComparison.Ordinal);
        Assert.Contains("JoinKeyedFoldFusion (off)", Query(separate).Explain(), StringComparison.Ordinal);
        Assert.Contains("KeyedFold:", RewriteAssert.PhysicalPart(Query(separate).Explain()), StringComparison.Ordinal);
        Assert.DoesNotContain("JoinKeyedFold:", Query(separate).Explain(), StringComparison.Ordinal);

        var expected = await Run.EventsInStartOrder(Query(separate));
        Run.AssertSequence(expected, await Run.EventsInStartOrder(Query(fused)));
        Run.AssertEquivalent(WinnersModel(items, offers), expected);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task WinningOfferPerItem_OffersWithLifetimes_RewrittenPlanGivesTheJoinPlansEvents(int seed, int batchSize, bool disordered)
    {
        // Offers that live Hold before the look-back is added: the fused operator keeps them as live right events, and each close
        // that enters pairs with the offers of its item still alive (the path point offers never take).
        var (items, offers) = Generate(seed, disordered);
        IQStream<Match> Query(QueryOptions options)
        {
            var held = QStream.From(offers, o => o.Time, disordered ? IngressPolicy.Reorder(OfferDisorder) : IngressPolicy.Throw, "offers").WithOptions(options)
                .ExtendLifetime(Hold)
                .Select(o => new Offer(o.Item, o.Bidder, o.Price, o.Time))
                .ExtendLifetime(LookBack);
            var closes = QStream.From(items, i => i.Expires.Ticks - 1, IngressPolicy.Reorder(2 * LookBack), "closes");
            return WinnerPerItem(
                from i in closes
                join o in held on i.Id equals o.Item
                where o.Time >= i.Opened && o.Price >= i.Reserve
                select new Match(i.Id, i.Category, i.Expires.Ticks, o.Bidder, o.Price, o.Time.Ticks));
        }

        var expected =
            (from p in Pairs(items, offers, Hold.Ticks)
             group p.Match by (p.Close, p.Match.Item) into g
             select Run.Event(g.Key.Close, g.Key.Close + 1, g.Aggregate(new BestOffer()))).ToList();
        await AssertBothPlans(Query, batchSize, expected);
    }

    [Fact]
    public async Task WinningOfferPerItem_FilterThrowsInTheFusedOperator_QueryFailsNamingTheChain()
    {
        var (items, offers) = Generate(1, disordered: false);
        var (live, closes) = Inputs(items, offers, disordered: false, new QueryOptions { Strict = true });
        long poison = offers.First(o => items.Any(i => i.Id == o.Item && o.Time.Ticks <= i.Expires.Ticks - 1 && o.Time.Ticks + 1 + LookBack.Ticks > i.Expires.Ticks - 1)).Price;
        var query = WinnerPerItem(
            from i in closes
            join o in live on i.Id equals o.Item
            where 100 / (o.Price - poison) != 0 || o.Price >= i.Reserve
            select new Match(i.Id, i.Category, i.Expires.Ticks, o.Bidder, o.Price, o.Time.Ticks));
        Assert.Contains("JoinKeyedFold:", RewriteAssert.PhysicalPart(query.Explain()), StringComparison.Ordinal);

        var error = await Assert.ThrowsAsync<QueryExecutionException>(() => Run.EventsInStartOrder(query));
        Assert.IsType<DivideByZeroException>(error.InnerException);
        Assert.Contains("JoinKeyedFold", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task WinningOfferPerItem_AtParallelism2_GivesTheSequentialJoinPlansEvents(int seed)
    {
        var (items, offers) = Generate(seed, disordered: true);
        IQStream<Match> Query(QueryOptions options) => WinnerPerItem(Matches(items, offers, disordered: true, options));

        var parallel = new QueryOptions { Strict = true, BatchSize = 16, Parallelism = 2 };
        Assert.Contains("ExpiryJoinToKeyedFold: applied", Query(parallel).Explain(), StringComparison.Ordinal);
        var joinPlan = await Run.EventsInStartOrder(Query(new QueryOptions { Strict = true, RewriteSubPlans = false }));
        Run.AssertSequence(joinPlan, await Run.EventsInStartOrder(Query(parallel)));
        Run.AssertSequence(joinPlan, await Run.EventsInStartOrder(Query(parallel with { RewriteSubPlans = false })));
    }

    /// <summary>The offers (kept alive for the look-back; reordered when <paramref name="disordered"/>) and the items' closes (a point one tick before expiry).</summary>
    private static (IQStream<Offer> Live, IQStream<Item> Closes) Inputs(List<Item> items, List<Offer> offers, bool disordered, QueryOptions options) =>
        (QStream.From(offers, o => o.Time, disordered ? IngressPolicy.Reorder(OfferDisorder) : IngressPolicy.Throw, "offers").WithOptions(options).ExtendLifetime(LookBack),
         QStream.From(items, i => i.Expires.Ticks - 1, IngressPolicy.Reorder(2 * LookBack), "closes"));

    /// <summary>The best offer per item and close: a keyed fold over one-tick windows.</summary>
    internal static IQStream<Match> WinnerPerItem(IQStream<Match> matches) =>
        from m in matches.TumblingWindow(TimeSpan.FromTicks(1))
        group m by m.Item into g
        select g.Aggregate(new BestOffer());

    /// <summary>q9's shape: the closes (a point one tick before expiry) joined with the offers kept alive for the look-back, then filtered and projected.</summary>
    internal static IQStream<Match> Matches(List<Item> items, List<Offer> offers, bool disordered, QueryOptions options)
    {
        var (live, closes) = Inputs(items, offers, disordered, options);
        return from i in closes
               join o in live on i.Id equals o.Item
               where o.Time >= i.Opened && o.Price >= i.Reserve
               select new Match(i.Id, i.Category, i.Expires.Ticks, o.Bidder, o.Price, o.Time.Ticks);
    }

    /// <summary>The model's winner per item and close.</summary>
    internal static List<StreamEvent<Match>> WinnersModel(List<Item> items, List<Offer> offers) =>
        (from p in Pairs(items, offers)
         group p.Match by (p.Close, p.Match.Item) into g
         select Run.Event(g.Key.Close, g.Key.Close + 1, g.Aggregate(new BestOffer()))).ToList();

    /// <summary>
    /// The model of the join: a close at <c>t</c> (lifetime <c>[t, t + 1)</c>) meets every offer whose lifetime <c>[s, s + 1 + hold + D)</c>
    /// overlaps it.
    /// </summary>
    private static IEnumerable<(long Close, Match Match)> Pairs(List<Item> items, List<Offer> offers, long hold = 0) =>
        from i in items
        let close = i.Expires.Ticks - 1
        join o in offers on i.Id equals o.Item
        where o.Time.Ticks <= close && o.Time.Ticks + 1 + hold + LookBack.Ticks > close
        where o.Time >= i.Opened && o.Price >= i.Reserve
        select (close, new Match(i.Id, i.Category, i.Expires.Ticks, o.Bidder, o.Price, o.Time.Ticks));

    /// <summary>Both plans: the keyed fold fused with its join in one, none in the other (its log says "ExpiryJoinToKeyedFold (off)").</summary>
    private static Task AssertBothPlans<T>(Func<QueryOptions, IQStream<T>> query, int batchSize, List<StreamEvent<T>> expected) =>
        RewriteAssert.BothPlans(query, batchSize, expected, 20, "ExpiryJoinToKeyedFold",
            physical => Assert.Contains("JoinKeyedFold:", physical, StringComparison.Ordinal),
            unrewritten => Assert.DoesNotContain("KeyedFold:", unrewritten, StringComparison.Ordinal));

    /// <summary>
    /// About 300 items, each open up to 1.5 × the look-back (so early offers on the longest fall outside it), many expiring on the
    /// same tick; ids from a small set plus the extreme values of <c>long</c>, so several items share an id (some with the same
    /// expiry: one group); about 3,000 offers on them and on ids no item has, prices from a small set (ties) or huge, some below
    /// the reserve, some before the item opened; items with no offer at all. Items are listed in opening order (their closes come
    /// out of order, within 1.5 × the look-back); offers, when disordered, each moved back by up to 1 s.
    /// </summary>
    internal static (List<Item> Items, List<Offer> Offers) Generate(int seed, bool disordered)
    {
        var random = new Random(seed);
        long[] hugeKeys = RandomInput.HugeKeys;
        var items = new List<Item>();
        long opened = Origin.Ticks;
        for (int i = 0; i < 300; i++)
        {
            opened += random.Next(8) == 0 ? random.NextInt64(0, 3 * TimeSpan.TicksPerSecond) : random.NextInt64(0, TimeSpan.TicksPerSecond / 10);
            long id = RandomInput.Key(random, 6, hugeKeys, 80);
            long duration = random.Next(10) == 0 ? random.NextInt64(LookBack.Ticks, LookBack.Ticks * 3 / 2) : random.NextInt64(1, LookBack.Ticks);
            long expires = opened + duration;
            if (random.Next(3) == 0)
            {
                // Up to the next quarter second: many items expire on the same tick.
                const long Quarter = TimeSpan.TicksPerSecond / 4;
                expires += Quarter - (expires % Quarter);
            }

            items.Add(new Item(id, random.Next(5) == 0 ? long.MaxValue : random.Next(4), new DateTime(opened, DateTimeKind.Utc), new DateTime(expires, DateTimeKind.Utc), random.Next(4)));
        }

        var offers = new List<Offer>();
        long first = Origin.Ticks;
        long last = items.Max(i => i.Expires.Ticks) + TimeSpan.TicksPerSecond;
        for (int i = 0; i < 3_000; i++)
        {
            long time = first + random.NextInt64(0, last - first);
            long item = random.Next(10) == 0 ? 1_000 + random.Next(10) : RandomInput.Key(random, 5, hugeKeys, 80);
            long price = RandomInput.ExtremeOrSmall(random, 6, 6);
            offers.Add(new Offer(item, random.Next(3) == 0 ? long.MinValue : random.Next(20), price, new DateTime(time, DateTimeKind.Utc)));
        }

        offers.Sort((a, b) => a.Time.CompareTo(b.Time));
        if (disordered)
        {
            // Move offers back by up to the disorder bound, then read them in that order: Reorder(1 s) restores event time.
            offers = RandomInput.Disordered(offers, o => o.Time.Ticks, OfferDisorder.Ticks, random);
        }

        return (items, offers);
    }
}
