using System.Reactive.Linq;
using BenchmarkDotNet.Attributes;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Benchmarks.Scenarios.Nexmark;

/// <summary>A q3 result: a seller in one of three states and an auction they opened in category 10.</summary>
public readonly record struct LocalItem(string Name, string City, string State, long Auction);

/// <summary>NEXMark q3, local item suggestion: people in OR, ID or CA joined with the category-10 auctions they sell.</summary>
/// <remarks>
/// <para>
/// Flink SQL: <c>SELECT P.name, P.city, P.state, A.id FROM auction A JOIN person P ON A.seller = P.id WHERE A.category = 10 AND
/// P.state IN ('OR', 'ID', 'CA')</c> — a regular join, whose state grows forever. The bounded form here: a person can sell for
/// <see cref="SellerWindow"/> after registering (<c>ExtendLifetime</c>), so a person is forgotten after that. With the generator's
/// defaults a seller is one of the last 1,000 people, at most 0.5 s back at the benchmark's rate, so nothing is lost at that rate;
/// the quick check's slow rate does exercise the bound.
/// </para>
/// <para>
/// Rx.NET has no keyed join (<c>Join</c> pairs every left event with every right event whose durations overlap, then a
/// <c>Where</c> would filter: quadratic), so the baseline is the usual Rx form of a keyed stream-table join: a stateful
/// <c>SelectMany</c> over the event stream that keeps the eligible people of the last <see cref="SellerWindow"/> in a dictionary.
/// </para>
/// </remarks>
[MemoryDiagnoser]
public class Q3LocalItemSuggestion : NexmarkQuery<LocalItem>
{
    /// <summary>How long after registering a person's auctions are matched.</summary>
    public static readonly TimeSpan SellerWindow = TimeSpan.FromSeconds(10);

    public override string Name => "q3 local item suggestion";

    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public long RxNet() => CountRx();

    [Benchmark(OperationsPerInvoke = Events)]
    public long LinqStreamQuery() => CountLinqStream();

    [Benchmark(OperationsPerInvoke = Events)]
    public long HandWrittenLoop() => CountHandWritten();

    public override IQStream<LocalItem> LinqStream(NexmarkInput input)
    {
        var events = NexmarkStreams.Events(input);
        var sellers =
            from p in NexmarkStreams.People(events)
            where p.State == "OR" || p.State == "ID" || p.State == "CA"
            select p;
        var auctions =
            from a in NexmarkStreams.Auctions(events)
            where a.Category == 10
            select a;
        return
            from p in sellers.ExtendLifetime(SellerWindow)
            join a in auctions on p.Id equals a.Seller
            select new LocalItem(p.Name, p.City, p.State, a.Id);
    }

    public override void Rx(NexmarkInput input, IObserver<LocalItem> sink)
    {
        var live = new Dictionary<long, Person>();
        var registered = new Queue<Person>();
        input.Events.ToObservable()
            .SelectMany(e =>
            {
                Forget(live, registered, e.DateTime.Ticks);
                if (e.Kind == NexmarkEventKind.Person && IsLocal(e.Person!))
                {
                    live[e.Person!.Id] = e.Person;
                    registered.Enqueue(e.Person);
                }
                else if (e.Kind == NexmarkEventKind.Auction && e.Auction!.Category == 10 && live.TryGetValue(e.Auction.Seller, out var p))
                {
                    return [new LocalItem(p.Name, p.City, p.State, e.Auction.Id)];
                }

                return Array.Empty<LocalItem>();
            })
            .Subscribe(sink);
    }

    public override void HandWritten(NexmarkInput input, IObserver<LocalItem> sink)
    {
        var live = new Dictionary<long, Person>();
        var registered = new Queue<Person>();
        foreach (var e in input.Events)
        {
            Forget(live, registered, e.DateTime.Ticks);
            if (e.Kind == NexmarkEventKind.Person && IsLocal(e.Person!))
            {
                live[e.Person!.Id] = e.Person;
                registered.Enqueue(e.Person);
            }
            else if (e.Kind == NexmarkEventKind.Auction && e.Auction!.Category == 10 && live.TryGetValue(e.Auction.Seller, out var p))
            {
                sink.OnNext(new LocalItem(p.Name, p.City, p.State, e.Auction.Id));
            }
        }

        sink.OnCompleted();
    }

    public override IEnumerable<LocalItem> Model(NexmarkInput input) =>
        from p in input.People
        where IsLocal(p)
        join a in input.Auctions on p.Id equals a.Seller
        where a.Category == 10 && a.DateTime >= p.DateTime && a.DateTime - p.DateTime <= SellerWindow
        select new LocalItem(p.Name, p.City, p.State, a.Id);

    private static bool IsLocal(Person p) => p.State is "OR" or "ID" or "CA";

    /// <summary>Drops the people registered more than <see cref="SellerWindow"/> before <paramref name="now"/>.</summary>
    private static void Forget(Dictionary<long, Person> live, Queue<Person> registered, long now)
    {
        while (registered.TryPeek(out var oldest) && now - oldest.DateTime.Ticks > SellerWindow.Ticks)
        {
            live.Remove(registered.Dequeue().Id);
        }
    }
}
