namespace LinqStream.Analyzers.Tests.Corpus;

/// <summary>
/// The project's own corpus: realistic queries, each a "flag" case and an "ok" twin that differs in the one thing that matters.
/// <see cref="AgreementTests"/> compiles them all, runs the analyzers, runs each query through the real translator, and fails on any
/// disagreement between the two (or with <see cref="CorpusCase.Expected"/>).
/// </summary>
internal static class AnalyzerCorpus
{
    private const string Window = "TimeSpan.FromMinutes(1)";

    public static IReadOnlyList<CorpusCase> Cases { get; } =
    [
        // ---- direct: the cases round one already handled, kept as a baseline ----
        new("direct.count", "LSQ0001", "return bids.Count();"),
        new("direct.count-in-window-ok", "", $"return bids.TumblingWindow({Window}).Select(w => w.Count());"),
        new("direct.zero-window", "LSQ0004", "return bids.TumblingWindow(TimeSpan.Zero).Select(w => w.Count());"),
        new("direct.hop-larger-than-size", "LSQ0004", "return bids.HoppingWindow(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10)).Select(w => w.Count());"),
        new("direct.buffered-window", "LSQ0007", $"return bids.TumblingWindow({Window}).Select(w => w.ToList());"),
        new("direct.throttle", "LSQ0008", "return bids.Throttle(TimeSpan.FromSeconds(1));"),
        new("direct.clock", "LSQ0002", "return bids.Select(b => new { b.Price, Seen = DateTime.UtcNow });"),
        new("direct.task-result", "LSQ0003", "return bids.Select(b => Task.FromResult(b.Price).Result);"),

        // ---- receivers by meaning: IQbservable/IObservable locals, helpers, extension methods, local functions ----
        new("receivers.qbservable-local-take", "LSQ0008", "IQbservable<Bid> q = bids;\nreturn q.Take(5);"),
        new("receivers.qbservable-local-where-ok", "", "IQbservable<Bid> q = bids;\nreturn q.Where(b => b.Price > 10);"),
        new("receivers.qbservable-local-count", "LSQ0001", "IQbservable<Bid> q = bids.Where(b => b.Price > 1);\nreturn q.Count();"),
        new("receivers.plain-rx-qbservable-count-ok", "", "IQbservable<Bid> q = Observable.Empty<Bid>().AsQbservable();\nreturn q.Count();"),
        new("receivers.generic-helper-skip", "LSQ0008", "return Recent(bids);", "static IQbservable<T> Recent<T>(IQbservable<T> s) => s.Skip(1);"),
        new("receivers.generic-helper-where-ok", "", "return Keep(bids, b => b.Price > 1);", "static IQbservable<T> Keep<T>(IQbservable<T> s, System.Linq.Expressions.Expression<Func<T, bool>> p) => s.Where(p);"),
        new("receivers.generic-helper-plain-rx-ok", "", "return Recent(Observable.Range(1, 3).AsQbservable());", "static IQbservable<T> Recent<T>(IQbservable<T> s) => s.Skip(1);"),
        new("receivers.extension-takelast", "LSQ0008", "return bids.Latest5();", "public static IQbservable<Bid> Latest5(this IQbservable<Bid> s) => s.TakeLast(5);"),
        new("receivers.extension-filter-ok", "", "return bids.Expensive();", "public static IQStream<Bid> Expensive(this IQStream<Bid> s) => s.Where(b => b.Price > 100);"),
        new("receivers.local-function-take", "LSQ0008", "IQbservable<T> First3<T>(IQbservable<T> s) => s.Take(3);\nreturn First3(bids);"),
        new("receivers.local-function-identity-ok", "", "IQbservable<T> Same<T>(IQbservable<T> s) => s;\nreturn Same(bids).Where(b => b.Price > 1);"),
        new("receivers.helper-returns-query-count", "LSQ0001", "return Feed(bidList).Count();", "static IQbservable<Bid> Feed(List<Bid> l) => QStream.From(l, b => b.Time);"),
        new("receivers.helper-returns-query-where-ok", "", "return Feed(bidList).Where(b => b.Price > 2);", "static IQbservable<Bid> Feed(List<Bid> l) => QStream.From(l, b => b.Time);"),
        new("receivers.branch-distinct", "LSQ0001", "bool all = bidList.Count > 2;\nIQbservable<Bid> q = all ? bids : bids.Where(b => b.Price > 1);\nreturn q.Distinct();"),
        new("receivers.reassigned-local-take", "LSQ0008", "IQbservable<Bid> q = Observable.Empty<Bid>().AsQbservable();\nq = bids;\nreturn q.Take(1);"),
        new("receivers.rx-groupby-on-local", "LSQ0001", "IQbservable<Bid> q = bids;\nreturn q.GroupBy(b => b.Auction);"),
        new("receivers.window-groupby-ok", "", $"IQStream<Bid> q = bids;\nreturn q.TumblingWindow({Window}).GroupBy(b => b.Auction).Select(g => g.Sum(b => b.Price));"),
        new("receivers.extension-scan", "LSQ0001", "return bids.Running();", "public static IQbservable<decimal> Running(this IQbservable<Bid> s) => s.Select(b => b.Price).Scan(0m, (a, p) => a + p);"),
        new("receivers.local-function-count", "LSQ0001", "IQbservable<int> CountAll<T>(IQbservable<T> s) => s.Count();\nreturn CountAll(bids);"),
        new("receivers.helper-timestamp", "LSQ0008", "return Feed(bidList).Timestamp();", "static IQbservable<Bid> Feed(List<Bid> l) => QStream.From(l, b => b.Time);"),
        new("receivers.windowed-counts-sum", "LSQ0001", $"IQbservable<int> counts = bids.TumblingWindow({Window}).Select(w => w.Count());\nreturn counts.Sum();"),
        new("receivers.observable-publish-after-egress-ok", "", "IObservable<Bid> o = bids;\nreturn o.Publish().RefCount();"),

        // ---- Rx terminal and blocking operators ----
        new("terminal.wait-on-observable-local", "LSQ0008", "IObservable<Bid> o = bids;\nvar last = o.Wait();\nreturn last;"),
        new("terminal.subscribe-on-observable-local-ok", "", "IObservable<Bid> o = bids;\nvar seen = new List<Bid>();\nusing (o.Subscribe(seen.Add)) { }\nreturn null;"),
        new("terminal.await-stream", "LSQ0008", "var last = await bids.Where(b => b.Price > 1);\nreturn last;"),
        new("terminal.await-tolistasync-ok", "", "var all = await bids.Where(b => b.Price > 1).ToListAsync();\nreturn null;"),
        new("terminal.totask", "LSQ0008", "var last = await bids.ToTask();\nreturn last;"),
        new("terminal.firstasync", "LSQ0001", "return bids.FirstAsync();"),
        new("terminal.blocking-first", "LSQ0001", "var first = bids.First();\nreturn first;"),
        new("terminal.blocking-first-plain-rx-ok", "", "var first = Observable.Range(1, 3).First();\nreturn null;"),
        new("terminal.foreachasync", "LSQ0008", "decimal total = 0;\nawait bids.ForEachAsync(b => total += b.Price);\nreturn total;"),
        new("terminal.await-foreach-ok", "", "decimal total = 0;\nawait foreach (var b in bids.ToAsyncEnumerable()) { total += b.Price; }\nreturn null;"),
        new("terminal.toenumerable", "LSQ0008", "decimal total = 0;\nforeach (var b in bids.ToEnumerable()) { total += b.Price; }\nreturn total;"),
        new("terminal.lastasync", "LSQ0001", "return bids.LastAsync();"),
        new("terminal.singleasync-through-local", "LSQ0001", "IQbservable<Bid> one = bids.Where(b => b.Bidder == \"ann\");\nreturn one.SingleAsync();"),
        new("terminal.wait-plain-rx-ok", "", "var n = Observable.Range(1, 3).Wait();\nreturn null;"),

        // ---- processing time and blocking through helpers ----
        new("helpers.clock-in-helper", "LSQ0002", "return bids.Where(b => IsRecent(b));", "static bool IsRecent(Bid b) => b.Time > DateTime.UtcNow.AddMinutes(-5);"),
        new("helpers.pure-helper-ok", "", "return bids.Where(b => IsBig(b));", "static bool IsBig(Bid b) => b.Price > 100;"),
        new("helpers.clock-method-group", "LSQ0002", "return bids.SelectMany(b => new[] { b }.Where(IsRecent));", "static bool IsRecent(Bid b) => b.Time > DateTime.UtcNow.AddMinutes(-5);"),
        new("helpers.pure-method-group-ok", "", "return bids.SelectMany(b => new[] { b }.Where(IsBig));", "static bool IsBig(Bid b) => b.Price > 100;"),
        new("helpers.clock-in-func-local", "LSQ0002", "Func<Bid, bool> recent = b => b.Time > DateTime.Now.AddMinutes(-1);\nreturn bids.Where(b => recent(b));"),
        new("helpers.pure-func-local-ok", "", "Func<Bid, bool> big = b => b.Price > 10;\nreturn bids.Where(b => big(b));"),
        new("helpers.random-helper", "LSQ0002", "return bids.Select(b => b.Price * (decimal)Jitter());", "static double Jitter() => Random.Shared.NextDouble();"),
        new("helpers.guid-helper", "LSQ0002", "return bids.Select(b => new { Id = NewId(), b.Price });", "static string NewId() => Guid.NewGuid().ToString();"),
        new("helpers.interlocked-counter", "LSQ0002", "return bids.Select(b => new { N = Next(), b.Price });", "static long s_seq;\nstatic long Next() => Interlocked.Increment(ref s_seq);"),
        new("helpers.clock-two-levels-down", "LSQ0002", "return bids.Where(b => Fresh(b));", "static DateTime Now() => DateTime.Now;\nstatic bool Fresh(Bid b) => b.Time > Now().AddHours(-1);"),
        new("helpers.file-io-helper", "LSQ0003", "return bids.Select(b => Lookup(b.Auction));", "static string Lookup(long id) => File.ReadAllText(\"/nonexistent/\" + id);"),
        new("helpers.http-helper", "LSQ0003", "return bids.Select(b => Fetch(b.Auction));", "static readonly System.Net.Http.HttpClient s_http = new();\nstatic string Fetch(long id) => s_http.GetStringAsync(\"http://localhost/\" + id).Result;"),
        new("helpers.sleep-helper", "LSQ0003", "return bids.Select(b => Slow(b.Price));", "static decimal Slow(decimal p)\n{\n    Thread.Sleep(1);\n    return p;\n}"),
        new("helpers.string-reader-helper-ok", "", "return bids.Select(b => FirstLine(b.Bidder));", "static string FirstLine(string s) => new StringReader(s).ReadLine() ?? \"\";"),
        new("helpers.string-reader-direct-ok", "", "return bids.Select(b => new StringReader(b.Bidder).ReadLine());"),
        new("helpers.time-arithmetic-ok", "", "return bids.Select(b => Bucket(b.Time));", "static DateTime Bucket(DateTime t) => new DateTime(t.Ticks - t.Ticks % TimeSpan.TicksPerMinute);"),
        new("helpers.file-io-func-local", "LSQ0003", "Func<long, string> read = id => File.ReadAllText(id.ToString());\nreturn bids.Select(b => read(b.Auction));"),
        new("helpers.clock-read-before-query-ok", "", "var cutoff = DateTime.UtcNow.AddDays(-1);\nreturn bids.Where(b => b.Time > cutoff);"),

        // ---- endless lifetimes through data flow ----
        new("lifetimes.local", "LSQ0005", "var forever = DateTime.MaxValue;\nvar open = auctions.WithLifetime(a => a.Time, a => forever);\nreturn open.Join(bids, a => a.Id, b => b.Auction, (a, b) => b.Price);"),
        new("lifetimes.static-field", "LSQ0005", "return auctions.WithLifetime(a => a.Time, a => s_never).Join(bids, a => a.Id, b => b.Auction, (a, b) => b.Price);", "static readonly DateTime s_never = DateTime.MaxValue;"),
        new("lifetimes.branch", "LSQ0005", "return auctions.WithLifetime(a => a.Time, a => a.Expires > a.Time ? a.Expires : DateTime.MaxValue).Join(bids, a => a.Id, b => b.Auction, (a, b) => b.Price);"),
        new("lifetimes.extension-method", "LSQ0005", "return auctions.WithLifetime(a => a.Time, a => a.Time.Forever()).Join(bids, a => a.Id, b => b.Auction, (a, b) => b.Price);", "public static DateTime Forever(this DateTime t) => DateTime.MaxValue;"),
        new("lifetimes.extend-by-local", "LSQ0005", "var keep = TimeSpan.MaxValue;\nreturn auctions.ExtendLifetime(keep).Join(bids, a => a.Id, b => b.Auction, (a, b) => b.Price);"),
        new("lifetimes.stream-helper", "LSQ0005", "return auctions.KeepForever().Join(bids, a => a.Id, b => b.Auction, (a, b) => b.Price);", "public static IQStream<Auction> KeepForever(this IQStream<Auction> s) => s.WithLifetime(a => a.Time, a => DateTime.MaxValue);"),
        new("lifetimes.expires-ok", "", "return auctions.WithLifetime(a => a.Time, a => a.Expires).Join(bids, a => a.Id, b => b.Auction, (a, b) => b.Price);"),
        new("lifetimes.extend-by-local-ok", "", "var ttl = TimeSpan.FromHours(1);\nreturn auctions.ExtendLifetime(ttl).Join(bids, a => a.Id, b => b.Auction, (a, b) => b.Price);"),
        new("lifetimes.static-field-ok", "", "return auctions.ExtendLifetime(s_ttl).Join(bids, a => a.Id, b => b.Auction, (a, b) => b.Price);", "static readonly TimeSpan s_ttl = TimeSpan.FromMinutes(5);"),
        new("lifetimes.endless-not-joined-ok", "", "return auctions.WithLifetime(a => a.Time, a => DateTime.MaxValue).Select(a => a.Id);"),

        // ---- captured values changed after the query is built ----
        new("captured.local-reassigned", "LSQ0006", "var min = 10m;\nvar q = bids.Where(b => b.Price > min);\nmin = 20m;\nreturn q;"),
        new("captured.local-assigned-before-ok", "", "var min = 10m;\nmin = 20m;\nreturn bids.Where(b => b.Price > min);"),
        new("captured.deconstruction", "LSQ0006", "var (lo, hi) = (1m, 100m);\nvar q = bids.Where(b => b.Price > lo && b.Price < hi);\n(lo, hi) = (5m, 50m);\nreturn q;"),
        new("captured.for-loop-variable", "LSQ0006", "var qs = new List<IQStream<Bid>>();\nfor (long i = 1; i <= 2; i++)\n{\n    qs.Add(bids.Where(b => b.Auction == i));\n}\nreturn qs[0];"),
        new("captured.foreach-variable-ok", "", "var qs = new List<IQStream<Bid>>();\nforeach (var id in new long[] { 1, 2 })\n{\n    qs.Add(bids.Where(b => b.Auction == id));\n}\nreturn qs[0];"),
        new("captured.for-loop-copy-ok", "", "var qs = new List<IQStream<Bid>>();\nfor (long i = 1; i <= 2; i++)\n{\n    var id = i;\n    qs.Add(bids.Where(b => b.Auction == id));\n}\nreturn qs[0];"),
        new("captured.static-field-mutated", "LSQ0006", "var q = bids.Where(b => b.Price > s_min);\ns_min = 20m;\nreturn q;", "static decimal s_min = 10m;"),
        new("captured.static-readonly-ok", "", "return bids.Where(b => b.Price > s_floor);", "static readonly decimal s_floor = 10m;"),
        new("captured.options-object-mutated", "LSQ0006", "var limits = new Limits { Min = 10m };\nvar q = bids.Where(b => b.Price > limits.Min);\nlimits.Min = 20m;\nreturn q;", "public sealed class Limits { public decimal Min { get; set; } }"),
        new("captured.options-object-set-before-ok", "", "var limits = new Limits { Min = 10m };\nlimits.Min = 20m;\nreturn bids.Where(b => b.Price > limits.Min);", "public sealed class Limits { public decimal Min { get; set; } }"),
        new("captured.compound-assignment", "LSQ0006", "var min = 10m;\nvar q = bids.Where(b => b.Price > min);\nmin += 5m;\nreturn q;"),
        new("captured.completed-before-reassignment-ok", "", "var min = 10m;\nvar first = await bids.Where(b => b.Price > min).ToListAsync();\nmin = 20m;\nreturn null;"),
        new("captured.completed-through-local-ok", "", "var min = 10m;\nvar q = bids.Where(b => b.Price > min);\nvar all = await q.ToListAsync();\nmin = 20m;\nreturn null;"),
        new("captured.other-branch-ok", "", "var min = 10m;\nIQStream<Bid> q;\nif (bidList.Count > 1)\n{\n    q = bids.Where(b => b.Price > min);\n}\nelse\n{\n    min = 20m;\n    q = bids;\n}\nreturn q;"),

        // ---- shapes the engine refuses ----
        new("shapes.select-with-index", "LSQ0009", "return bids.Select((b, i) => new { b.Price, Position = i });"),
        new("shapes.where-with-index", "LSQ0009", "return bids.Where((b, i) => i % 2 == 0);"),
        new("shapes.session-without-aggregate", "LSQ0009", "return bids.SessionWindow(TimeSpan.FromMinutes(5)).Select(b => b.Price);"),
        new("shapes.session-bare", "LSQ0009", "return bids.SessionWindow(TimeSpan.FromMinutes(5));"),
        new("shapes.session-aggregated-ok", "", "return bids.SessionWindow(TimeSpan.FromMinutes(5)).GroupBy(b => b.Bidder).Select(g => new { g.Key, N = g.Count() });"),
        new("shapes.withlifetime-after-filter", "LSQ0009", "return auctions.Where(a => a.Id > 0).WithLifetime(a => a.Time, a => a.Expires);"),
        new("shapes.withlifetime-after-filter-through-local", "LSQ0009", "var open = auctions.Where(a => a.Id > 0);\nreturn open.WithLifetime(a => a.Time, a => a.Expires);"),
        new("shapes.withlifetime-at-source-ok", "", "return auctions.WithLifetime(a => a.Time, a => a.Expires).Where(a => a.Id > 0);"),
        new("shapes.second-from", "LSQ0009", "return from b in bids\n       from a in auctions\n       select new { b.Price, a.Id };"),
        new("shapes.join-instead-of-second-from-ok", "", "return from b in bids\n       join a in auctions on b.Auction equals a.Id\n       select new { b.Price, a.Id };"),
        new("shapes.group-filter-without-select", "LSQ0009", $"return bids.TumblingWindow({Window}).GroupBy(b => b.Auction).Where(g => g.Count() > 2);"),
        new("shapes.group-filter-with-select-ok", "", $"return bids.TumblingWindow({Window}).GroupBy(b => b.Auction).Where(g => g.Count() > 2).Select(g => g.Key);"),
        new("shapes.merge-plain-observable", "LSQ0009", "return bids.Merge(rx);"),
        new("shapes.merge-rx-qbservable", "LSQ0009", "return bids.Merge(Observable.Empty<Bid>().AsQbservable());"),
        new("shapes.merge-streams-ok", "", "return bids.Merge(bids.Where(b => b.Price > 5));"),
        new("shapes.window-size-local-zero", "LSQ0004", "var size = TimeSpan.Zero;\nreturn bids.TumblingWindow(size).Select(w => w.Count());"),
        new("shapes.window-size-static-negative", "LSQ0004", "return bids.TumblingWindow(s_size).Select(w => w.Count());", "static readonly TimeSpan s_size = TimeSpan.FromSeconds(-30);"),
        new("shapes.window-size-local-ok", "", "var size = TimeSpan.FromSeconds(30);\nreturn bids.TumblingWindow(size).Select(w => w.Count());"),

        // ---- collecting a live stream ----
        new("live.tolistasync", "LSQ0010", "var pending = live.Where(b => b.Price > 1).ToListAsync();\nreturn null;"),
        new("live.tolistasync-through-local", "LSQ0010", "var prices = live.Select(b => b.Price);\nvar pending = prices.ToListAsync();\nreturn null;"),
        new("live.tolistasync-join-with-replay", "LSQ0010", "var joined = from b in live join a in auctions on b.Auction equals a.Id select b.Price;\nvar pending = joined.ToListAsync();\nreturn null;"),
        new("live.tolistasync-with-token-ok", "", "using var cts = new CancellationTokenSource();\nvar pending = live.ToListAsync(cts.Token);\nreturn null;"),
        new("live.tolistasync-replay-ok", "", "var all = await bids.Select(b => b.Price).ToListAsync();\nreturn null;"),
    ];
}
