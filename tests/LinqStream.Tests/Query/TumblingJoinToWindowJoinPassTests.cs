using LinqStream.Plan;
using LinqStream.Query.Optimization;
using LinqStream.Query.Translation;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Tests.Query;

/// <summary>
/// The pass <see cref="TumblingJoinToWindowJoinPass"/> (issue #19): which joins it rewrites (NEXMark q8's shape, with a printed
/// before/after, and inputs windowed alike through filters and projections), and the near misses it must leave alone because
/// the inputs' lifetimes are not proven to be the same tumbling window, or the join is not an inner equi-join on a key the
/// framework compares. The answers of both plans are compared in <c>WindowJoinTests</c> (conformance) and, call for call, in
/// <c>WindowJoinOperatorTests</c>.
/// </summary>
public sealed class TumblingJoinToWindowJoinPassTests
{
    private static readonly TimeSpan Size = TimeSpan.FromSeconds(10);
    private static readonly Person[] NoPeople = [];
    private static readonly Auction[] NoAuctions = [];

    private static IQStream<Person> People => QStream.From(NoPeople, p => p.DateTime, name: "people");

    private static IQStream<Auction> Auctions => QStream.From(NoAuctions, a => a.DateTime, name: "auctions");

    public readonly record struct SellerInWindow(long Seller, long WindowStart);

    public readonly record struct NewUser(long Id, string Name, long WindowStart);

    /// <summary>A key type with its own equality: the pass must not assume when it runs.</summary>
    public readonly record struct SellerKey(long Id)
    {
        public bool Equals(SellerKey other) => Id == other.Id;

        public override int GetHashCode() => Id.GetHashCode();
    }

    private static (string Before, string After, bool Changed) Run<T>(IQStream<T> query, QueryOptions? options = null)
    {
        var plan = new QueryTranslator().Translate(query.Expression);
        var after = new TumblingJoinToWindowJoinPass(options ?? QueryOptions.Default).Run(plan);
        return (Print(plan), Print(after), !ReferenceEquals(plan, after));
    }

    private static string Print(PlanNode plan) =>
        System.Text.RegularExpressions.Regex.Replace(PlanPrinter.Print(plan), @"<>f__AnonymousType\d+`\d+", "<anon>").ReplaceLineEndings("\n");

    private static IQStream<SellerInWindow> Sellers(IQStream<Auction> auctions, TimeSpan size) =>
        from a in auctions.TumblingWindow(size)
        group a by a.Seller into g
        select new SellerInWindow(g.Key, g.Window.StartTicks);

    private static IQStream<NewUser> Q8(IQStream<Person> people, IQStream<Auction> auctions) =>
        from p in people.TumblingWindow(Size)
        join s in Sellers(auctions, Size) on p.Id equals s.Seller
        select new NewUser(p.Id, p.Name, s.WindowStart);

    [Fact]
    public void PeopleJoinedWithTheSellersOfTheSameWindow_BecomeOneWindowJoin()
    {
        var (before, after, changed) = Run(Q8(People, Auctions));

        Assert.True(changed);
        Assert.Equal("""
            Join: p => p.Id == s => s.Seller, select: (p, s) => new NewUser(p.Id, p.Name, s.WindowStart)
              Window: Tumbling(00:00:10)
                From: people, time: p => p.DateTime, policy: Throw
              WindowAggregate: Tumbling(00:00:10), key: a => a.Seller, select: g => new SellerInWindow(g.Key, g.Window.StartTicks)
                From: auctions, time: a => a.DateTime, policy: Throw
            """ + "\n", before);
        Assert.Equal("""
            WindowJoin: Tumbling(00:00:10), p => p.Id == s => s.Seller, select: (p, s) => new NewUser(p.Id, p.Name, s.WindowStart)
              Window: Tumbling(00:00:10)
                From: people, time: p => p.DateTime, policy: Throw
              WindowAggregate: Tumbling(00:00:10), key: a => a.Seller, select: g => new SellerInWindow(g.Key, g.Window.StartTicks)
                From: auctions, time: a => a.DateTime, policy: Throw
            """ + "\n", after);
    }

    [Fact]
    public void WindowsBehindFiltersAndProjections_AreRewritten()
    {
        // (A Select on the windowed stream itself would aggregate the window: the casts make these per-event steps.)
        var people = ((IQStream<Person>)People.TumblingWindow(Size)).Where(p => p.State == "OR").Select(p => new { p.Id, p.Name });
        var auctions = ((IQStream<Auction>)Auctions.Where(a => a.Reserve > 10).TumblingWindow(Size)).Select(a => new { a.Seller, a.Id });
        var query = from p in people join a in auctions on p.Id equals a.Seller select new { p.Name, a.Id };

        Assert.True(Run(query).Changed);
    }

    [Fact]
    public void CompositeAnonymousKeyOfFrameworkTypes_IsRewritten()
    {
        var query =
            from p in People.TumblingWindow(Size)
            join a in Auctions.TumblingWindow(Size) on new { p.Id, p.Name } equals new { Id = a.Seller, Name = a.ItemName }
            select a.Id;

        Assert.True(Run(query).Changed);
    }

    [Fact]
    public void NullableKey_IsRewritten()
    {
        var query =
            from p in People.TumblingWindow(Size)
            join a in Auctions.TumblingWindow(Size) on (long?)p.Id equals (a.Reserve > 0 ? (long?)a.Seller : null)
            select a.Id;

        Assert.True(Run(query).Changed);
    }

    [Fact]
    public void WindowsOfAnotherSize_AreNotRewritten()
    {
        var query = from p in People.TumblingWindow(Size) join s in Sellers(Auctions, TimeSpan.FromSeconds(5)) on p.Id equals s.Seller select p.Name;
        Assert.False(Run(query).Changed);
    }

    [Fact]
    public void HoppingWindowOnOneSide_IsNotRewritten()
    {
        var query = from p in People.HoppingWindow(Size, Size / 2) join s in Sellers(Auctions, Size) on p.Id equals s.Seller select p.Name;
        Assert.False(Run(query).Changed);
    }

    [Fact]
    public void HoppingAggregateWithTheSameHop_IsNotRewritten()
    {
        var sellers = from a in Auctions.HoppingWindow(Size * 2, Size) group a by a.Seller into g select new SellerInWindow(g.Key, g.Window.StartTicks);
        var query = from p in People.TumblingWindow(Size) join s in sellers on p.Id equals s.Seller select p.Name;
        Assert.False(Run(query).Changed);
    }

    [Fact]
    public void SessionAggregate_IsNotRewritten()
    {
        var sellers = from a in Auctions.SessionWindow(Size) group a by a.Seller into g select new SellerInWindow(g.Key, g.Window.StartTicks);
        var query = from p in People.TumblingWindow(Size) join s in sellers on p.Id equals s.Seller select p.Name;
        Assert.False(Run(query).Changed);
    }

    [Fact]
    public void LifetimeChangedAfterTheWindow_IsNotRewritten()
    {
        var query = from p in People.TumblingWindow(Size).ExtendLifetime(TimeSpan.FromSeconds(1)) join s in Sellers(Auctions, Size) on p.Id equals s.Seller select p.Name;
        Assert.False(Run(query).Changed);
    }

    [Fact]
    public void PointEventsOnOneSide_AreNotRewritten()
    {
        var query = from p in People join s in Sellers(Auctions, Size) on p.Id equals s.Seller select p.Name;
        Assert.False(Run(query).Changed);
    }

    [Fact]
    public void LeftJoinAndAntiJoin_AreNotRewritten()
    {
        var left = People.TumblingWindow(Size).LeftJoin(Sellers(Auctions, Size), p => p.Id, s => s.Seller, (p, s) => p.Name);
        var anti = People.TumblingWindow(Size).WhereNotExists(Sellers(Auctions, Size), p => p.Id, s => s.Seller);
        Assert.False(Run(left).Changed);
        Assert.False(Run(anti).Changed);
    }

    [Fact]
    public void KeyTypeWithItsOwnEquality_IsNotRewritten()
    {
        var query = from p in People.TumblingWindow(Size) join s in Sellers(Auctions, Size) on new SellerKey(p.Id) equals new SellerKey(s.Seller) select p.Name;
        Assert.False(Run(query).Changed);
    }

    [Fact]
    public void RewriteSubPlansOff_TurnsThePassOff()
    {
        var options = new QueryOptions { RewriteSubPlans = false };
        Assert.False(Run(Q8(People, Auctions), options).Changed);
        Assert.Equal("TumblingJoinToWindowJoin (off)", new TumblingJoinToWindowJoinPass(options).Name);
    }

    [Fact]
    public void WindowMaximumJoinedBackToItsInput_IsLeftToTheArgMaxRewrite()
    {
        // q7's shape matches both passes; the arg-max rewrite, which removes the join, runs first.
        var bids = QStream.From(new[] { new Bid { Auction = 1, Price = 5, DateTime = DateTime.UnixEpoch } }, b => b.DateTime);
        var maxima = bids.TumblingWindow(Size).Select(w => new { Start = w.Window.StartTicks, Max = w.Max(b => b.Price) });
        var query = from b in bids.TumblingWindow(Size) join m in maxima on b.Price equals m.Max select b.Auction;

        string explained = query.Explain();
        Assert.Contains("WindowMaxJoinToArgMax: applied", explained, StringComparison.Ordinal);
        Assert.Contains("TumblingJoinToWindowJoin: no change", explained, StringComparison.Ordinal);
    }

    [Fact]
    public void Explain_NamesThePassAndTheOperator()
    {
        var people = QStream.From(new[] { new Person { Id = 1, Name = "ann", DateTime = DateTime.UnixEpoch } }, p => p.DateTime);
        var auctions = QStream.From(new[] { new Auction { Id = 7, Seller = 1, DateTime = DateTime.UnixEpoch } }, a => a.DateTime);
        string explained = Q8(people, auctions).Explain();

        Assert.Contains("TumblingJoinToWindowJoin: applied", explained, StringComparison.Ordinal);
        string physical = explained[explained.IndexOf("Physical plan:", StringComparison.Ordinal)..];
        Assert.Contains("WindowJoin: Tumbling(00:00:10)", physical, StringComparison.Ordinal);
        Assert.DoesNotMatch(new System.Text.RegularExpressions.Regex(@"^\s*Join:", System.Text.RegularExpressions.RegexOptions.Multiline), physical);
    }

    [Theory]
    [InlineData(typeof(long), true)]
    [InlineData(typeof(string), true)]
    [InlineData(typeof(DateTimeOffset), true)]
    [InlineData(typeof(int?), true)]
    [InlineData(typeof((long, string)), true)]
    [InlineData(typeof(DayOfWeek), true)]
    [InlineData(typeof(SellerKey), false)]
    [InlineData(typeof(Person), false)]
    [InlineData(typeof(object), false)]
    [InlineData(typeof((long, SellerKey)), false)]
    public void PlainEquality_OnlyForFrameworkTypesAndTheirCompositions(Type type, bool plain) =>
        Assert.Equal(plain, TumblingJoinToWindowJoinPass.HasPlainEquality(type));
}
