using System.Reactive.Linq;
using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Conformance.Tests.Translation;

/// <summary>
/// Query shapes without a streaming meaning: each fails at <c>Subscribe</c> (not when built) with a
/// <see cref="QueryTranslationException"/> that names the operator, quotes it in the message and says what to write instead,
/// and no source is touched — neither when the query is built nor when it is refused.
/// </summary>
public sealed class UntranslatableQueryTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Each shape: the operator the exception must name, a fragment of the fix the message must give, and how to build it.
    /// The message quotes the operator (<c>'Count'</c>), or, where the operator is a general one such as <c>Select</c>, the
    /// user's own expression (see <see cref="s_quoted"/>).
    /// </summary>
    private static readonly Dictionary<string, (string Operator, string Fix, Func<IQStream<Bid>, Query> Build)> s_cases = new()
    {
        ["Rx Count"] = ("Count", "TumblingWindow", s => Q(Qbservable.Count(s))),
        ["Rx LongCount"] = ("LongCount", "TumblingWindow", s => Q(Qbservable.LongCount(s))),
        ["Rx Sum"] = ("Sum", "TumblingWindow", s => Q(Qbservable.Sum(s.Select(b => b.Price)))),
        ["Rx Min"] = ("Min", "TumblingWindow", s => Q(Qbservable.Min(s.Select(b => b.Price)))),
        ["Rx Max with selector"] = ("Max", "TumblingWindow", s => Q(Qbservable.Max(s, b => b.Price))),
        ["Rx Average"] = ("Average", "TumblingWindow", s => Q(Qbservable.Average(s.Select(b => b.Price)))),
        ["Rx Aggregate"] = ("Aggregate", "TumblingWindow", s => Q(Qbservable.Aggregate(s, 0L, (acc, b) => acc + b.Price))),
        ["Rx Scan"] = ("Scan", "TumblingWindow", s => Q(Qbservable.Scan(s, 0L, (acc, b) => acc + b.Price))),
        ["Rx ToList"] = ("ToList", "TumblingWindow", s => Q(Qbservable.ToList(s))),
        ["Rx ToArray"] = ("ToArray", "TumblingWindow", s => Q(Qbservable.ToArray(s))),
        ["Rx GroupBy without a window"] = ("GroupBy", "TumblingWindow(size).GroupBy(key)", s => Q(Qbservable.GroupBy(s, b => b.Auction))),
        ["Rx Distinct"] = ("Distinct", "TumblingWindow", s => Q(Qbservable.Distinct(s.Select(b => b.Bidder)))),
        ["Rx MaxBy (sort-like)"] = ("MaxBy", "TumblingWindow", s => Q(Qbservable.MaxBy(s, b => b.Price))),
        ["Rx Take"] = ("Take", "event time", s => Q(Qbservable.Take(s, 10))),
        ["Rx Skip"] = ("Skip", "event time", s => Q(Qbservable.Skip(s, 10))),
        ["Rx TakeWhile"] = ("TakeWhile", "event time", s => Q(Qbservable.TakeWhile(s, b => b.Price < 1000))),
        ["Rx DistinctUntilChanged"] = ("DistinctUntilChanged", "ClipLifetime", s => Q(Qbservable.DistinctUntilChanged(s))),
        ["Rx Throttle"] = ("Throttle", "TumblingWindow", s => Q(Qbservable.Throttle(s, Second))),
        ["Rx Sample"] = ("Sample", "TumblingWindow", s => Q(Qbservable.Sample(s, Second))),
        ["Rx Delay"] = ("Delay", "ShiftTime", s => Q(Qbservable.Delay(s, Second))),
        ["Rx Timestamp"] = ("Timestamp", "event's own time", s => Q(Qbservable.Timestamp(s))),
        ["Rx Buffer by count"] = ("Buffer", "TumblingWindow", s => Q(Qbservable.Buffer(s, 10))),
        ["Rx Window by time"] = ("Window", "TumblingWindow", s => Q(Qbservable.Window(s, Second))),
        ["Rx Zip"] = ("Zip", "Join", s => Q(Qbservable.Zip(s, s.Select(b => b.Price), (b, p) => p))),
        ["Rx Concat"] = ("Concat", "event time", s => Q(Qbservable.Concat(s, s))),
        ["Rx CombineLatest"] = ("CombineLatest", "Join", s => Q(Qbservable.CombineLatest(s, s.Select(b => b.Price), (b, p) => p))),
        ["Rx FirstAsync"] = ("FirstAsync", "Take(1)", s => Q(Qbservable.FirstAsync(s))),
        ["Rx LastAsync"] = ("LastAsync", "ToListAsync", s => Q(Qbservable.LastAsync(s))),
        ["Rx Do (side effect)"] = ("Do", "Subscribe", s => Q(Qbservable.Do(s, b => GC.KeepAlive(b)))),
        ["Rx ObserveOn"] = ("ObserveOn", "event-time", s => Q(Qbservable.ObserveOn(s, System.Reactive.Concurrency.ImmediateScheduler.Instance))),
        ["SelectMany over an observable"] = ("SelectMany", "join ... on ... equals", s => Q(Qbservable.SelectMany(s, b => Observable.Return(b.Price)))),
        ["Where with an index"] = ("Where", "Use the event's time", s => Q(Qbservable.Where(s, (b, i) => i % 2 == 0))),
        ["Select with an index"] = ("Select", "Use the event's time", s => Q(Qbservable.Select(s, (b, i) => i))),
        ["WithLifetime after Where"] = ("WithLifetime", "QStream.From", s => Q(s.Where(b => b.Price > 0).WithLifetime(b => b.DateTime, b => b.DateTime.AddSeconds(1)))),
        ["SessionWindow without aggregate"] = ("SessionWindow", "GroupBy(key).Select", s => Q(s.SessionWindow(Second))),
        ["SessionWindow with a per-event Select"] = ("SessionWindow", "GroupBy(key).Select", s => Q(s.SessionWindow(Second).Select(b => b.Price))),
        ["Buffering window aggregate in strict mode"] = ("Select", "Use aggregates that fold", s => Q(s.TumblingWindow(Second).Select(w => w.Skip(1).Count()).WithOptions(new QueryOptions { Strict = true }))),
        ["Buffering group aggregate in strict mode"] = ("Select", "Use aggregates that fold", s => Q(
            (from b in s.TumblingWindow(Second) group b by b.Auction into g select new { g.Key, Last = g.Last().Price }).WithOptions(new QueryOptions { Strict = true }))),
        ["Having without Select"] = ("Where", "Select(g => ...)", s => Q(s.TumblingWindow(Second).GroupBy(b => b.Auction).Where(g => g.Count() > 1))),
    };

    /// <summary>The shapes whose message quotes the user's expression rather than the operator's name.</summary>
    private static readonly Dictionary<string, string> s_quoted = new()
    {
        ["Buffering window aggregate in strict mode"] = "'w => w.Skip(1).Count()'",
        ["Buffering group aggregate in strict mode"] = "g.Last().Price",
        ["Having without Select"] = "'g => (g.Count() > 1)'",
    };

    public static TheoryData<string, string> Cases
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var name in s_cases.Keys)
            {
                foreach (var source in new[] { "IEnumerable", "IObservable", "IAsyncEnumerable" })
                {
                    data.Add(name, source);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Subscribe_UntranslatableShape_ThrowsNamingOperatorAndFixWithoutTouchingTheSource(string shape, string sourceKind)
    {
        var (op, fix, build) = s_cases[shape];
        var (source, touches) = BreakingSource(sourceKind);

        var query = build(source);
        Assert.Equal(0, touches());

        var error = Assert.Throws<QueryTranslationException>(query.Subscribe);

        Assert.Equal(op, error.Operator);
        Assert.Contains(s_quoted.GetValueOrDefault(shape, $"'{op}'"), error.Message, StringComparison.Ordinal);
        Assert.Contains(fix, error.Message, StringComparison.Ordinal);
        Assert.NotEmpty(error.Reasons);
        Assert.Equal(0, touches());
    }

    [Fact]
    public void Subscribe_TwoUntranslatableOperatorsSideBySide_ReportsBothReasons()
    {
        var source = new BreakingEnumerable<Bid>();
        var bids = QStream.From(source, b => b.DateTime);
        var query = Qbservable.Merge(Qbservable.Where(bids, (b, i) => i > 5), Qbservable.Select(bids, (b, i) => b));

        var error = Assert.Throws<QueryTranslationException>(() => query.Subscribe(_ => { }));

        Assert.Equal("Where", error.Operator);
        Assert.Equal(2, error.Reasons.Count);
        Assert.Contains("'Where' with an index", error.Message, StringComparison.Ordinal);
        Assert.Contains("'Select' with an index", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, source.Touches);
    }

    [Fact]
    public void Subscribe_UntranslatableOperatorOverAnother_ReportsBothReasons()
    {
        var source = new BreakingEnumerable<Bid>();
        var query = Qbservable.Take(Qbservable.Where(QStream.From(source, b => b.DateTime), (b, i) => i > 5), 3);

        var error = Assert.Throws<QueryTranslationException>(() => query.Subscribe(_ => { }));

        Assert.Equal(2, error.Reasons.Count);
        Assert.Contains("'Take'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'Where' with an index", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, source.Touches);
    }

    [Fact]
    public void Subscribe_RxJoinWithDurationSelectors_NamesTheOperatorAndTheQuerySyntaxJoin()
    {
        var source = new BreakingEnumerable<Bid>();
        var bids = QStream.From(source, b => b.DateTime);
        var query = Qbservable.Join(bids, bids, b => Observable.Never<long>(), b => Observable.Never<long>(), (l, r) => l.Price + r.Price);

        var error = Assert.Throws<QueryTranslationException>(() => query.Subscribe(_ => { }));

        Assert.Equal("Join", error.Operator);
        Assert.Contains("'Join'", error.Message, StringComparison.Ordinal);
        Assert.Contains("join ... on ... equals", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, source.Touches);
    }

    [Fact]
    public async Task ToListAsync_UntranslatableQuery_ThrowsTheSameErrorWithoutTouchingTheSource()
    {
        var source = new BreakingEnumerable<Bid>();
        var query = (IQStream<long>)Qbservable.Count(QStream.From(source, b => b.DateTime)).Select(c => (long)c);

        var error = await Assert.ThrowsAsync<QueryTranslationException>(() => query.ToListAsync());

        Assert.Equal("Count", error.Operator);
        Assert.Equal(0, source.Touches);
    }

    [Fact]
    public async Task ToAsyncEnumerable_UntranslatableQuery_ThrowsAtFirstMoveNextWithoutTouchingTheSource()
    {
        var source = new BreakingEnumerable<Bid>();
        var query = (IQStream<int>)Qbservable.Count(QStream.From(source, b => b.DateTime));
        var results = query.ToAsyncEnumerable();
        Assert.Equal(0, source.Touches);

        await using var enumerator = results.GetAsyncEnumerator();
        var error = await Assert.ThrowsAsync<QueryTranslationException>(async () => await enumerator.MoveNextAsync());

        Assert.Equal("Count", error.Operator);
        Assert.Equal(0, source.Touches);
    }

    [Fact]
    public void Explain_UntranslatableQuery_ThrowsTheSameError()
    {
        var source = new BreakingEnumerable<Bid>();
        var query = (IQStream<long>)Qbservable.Sum(QStream.From(source, b => b.DateTime).Select(b => b.Price));

        var error = Assert.Throws<QueryTranslationException>(() => query.Explain());

        Assert.Equal("Sum", error.Operator);
        Assert.Equal(0, source.Touches);
    }

    private static (IQStream<Bid> Source, Func<int> Touches) BreakingSource(string kind)
    {
        switch (kind)
        {
            case "IEnumerable":
                {
                    var source = new BreakingEnumerable<Bid>();
                    return (QStream.From(source, b => b.DateTime), () => source.Touches);
                }

            case "IObservable":
                {
                    var source = new BreakingObservable<Bid>();
                    return (QStream.From(source, b => b.DateTime), () => source.Touches);
                }

            default:
                {
                    var source = new BreakingAsyncEnumerable<Bid>();
                    return (QStream.From(source, b => b.DateTime), () => source.Touches);
                }
        }
    }

    private static Query Q<T>(IObservable<T> query) => new(() => query.Subscribe(_ => { }).Dispose());

    /// <summary>A built query, subscribed on demand.</summary>
    private sealed record Query(Action Subscribe);
}
