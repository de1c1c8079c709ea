using System.Reactive.Linq;
using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Infrastructure;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Benchmarks.Scenarios.Nexmark;

/// <summary>A seller with at least one auction in a window (an intermediate result of q8).</summary>
public readonly record struct SellerInWindow(long Seller, long WindowStart);

/// <summary>A q8 result: a person who registered and opened an auction in the same window.</summary>
public readonly record struct NewUser(long Id, string Name, long WindowStart);

/// <summary>NEXMark q8, monitor new users: people who opened an auction in the 10 s tumbling window they registered in.</summary>
/// <remarks>
/// <para>
/// As Flink's q8: the distinct sellers per window (a group by seller) joined with the people of the same window. Both sides live
/// for their window, so the join matches within the window; the plan rewrite <c>TumblingJoinToWindowJoin</c> (issue #19) runs it
/// as a window join, each window's people and sellers joined once (<c>LinqStreamJoinPlan</c>: the temporal join it replaces).
/// </para>
/// <para>
/// Rx.NET: <c>Window(10 s)</c> on a virtual-time scheduler driven by event time; per window, <c>Publish</c> splits the events into
/// the people (<c>ToList</c>) and the distinct sellers (<c>Distinct</c> + <c>ToList</c>), zipped and hash-joined when the window closes.
/// </para>
/// <para>Hand-written: per window, a dictionary of people and a set of sellers, joined when the window closes.</para>
/// </remarks>
[MemoryDiagnoser]
public class Q8NewUsers : NexmarkQuery<NewUser>
{
    public static readonly TimeSpan Size = TimeSpan.FromSeconds(10);

    protected override bool HasJoinPlan => true;

    public override string Name => "q8 new users";

    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public long RxNet() => CountRx();

    [Benchmark(OperationsPerInvoke = Events)]
    public long LinqStreamQuery() => CountLinqStream();

    [Benchmark(OperationsPerInvoke = Events)]
    public long HandWrittenLoop() => CountHandWritten();

    /// <summary>The same LinqStream query with the plan rewrite off: the temporal join per event, as before issue #19's window join.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public long LinqStreamJoinPlan() => CountLinqStream(Input.With(Input.Options with { RewriteSubPlans = false }));

    public override IQStream<NewUser> LinqStream(NexmarkInput input)
    {
        var events = NexmarkStreams.Events(input);
        var sellers =
            from a in NexmarkStreams.Auctions(events).TumblingWindow(Size)
            group a by a.Seller into g
            select new SellerInWindow(g.Key, g.Window.StartTicks);
        return
            from p in NexmarkStreams.People(events).TumblingWindow(Size)
            join s in sellers on p.Id equals s.Seller
            select new NewUser(p.Id, p.Name, s.WindowStart);
    }

    public override void Rx(NexmarkInput input, IObserver<NewUser> sink) =>
        RxEventTime.Replay(
            input.Events,
            e => e.DateTime.Ticks,
            RxEventTime.AlignedStart(input.Events[0].DateTime.Ticks, Size, Size),
            (events, scheduler) => events
                .Window(Size, scheduler)
                .SelectMany(window =>
                {
                    long start = scheduler.Now.UtcTicks;
                    return window.Publish(w => w
                        .Where(e => e.Kind == NexmarkEventKind.Person)
                        .Select(e => e.Person!)
                        .ToList()
                        .Zip(
                            w.Where(e => e.Kind == NexmarkEventKind.Auction).Select(e => e.Auction!.Seller).Distinct().ToList(),
                            (people, sellers) =>
                            {
                                var selling = sellers.ToHashSet();
                                return people.Where(p => selling.Contains(p.Id)).Select(p => new NewUser(p.Id, p.Name, start));
                            })
                        .SelectMany(users => users));
                }),
            sink);

    public override void HandWritten(NexmarkInput input, IObserver<NewUser> sink)
    {
        var people = new Dictionary<long, string>();
        var sellers = new HashSet<long>();
        long windowEnd = long.MinValue;
        foreach (var e in input.Events)
        {
            long t = e.DateTime.Ticks;
            if (t >= windowEnd)
            {
                Emit();
                windowEnd = EventTime.WindowStart(t, Size) + Size.Ticks;
            }

            if (e.Kind == NexmarkEventKind.Person)
            {
                people[e.Person!.Id] = e.Person.Name;
            }
            else if (e.Kind == NexmarkEventKind.Auction)
            {
                sellers.Add(e.Auction!.Seller);
            }
        }

        Emit();
        sink.OnCompleted();

        void Emit()
        {
            long start = windowEnd - Size.Ticks;
            foreach (var seller in sellers)
            {
                if (people.TryGetValue(seller, out var name))
                {
                    sink.OnNext(new NewUser(seller, name, start));
                }
            }

            people.Clear();
            sellers.Clear();
        }
    }

    public override IEnumerable<NewUser> Model(NexmarkInput input) =>
        from p in input.People
        join s in input.Auctions.Select(a => new SellerInWindow(a.Seller, EventTime.WindowStart(a.DateTime.Ticks, Size))).Distinct()
            on new SellerInWindow(p.Id, EventTime.WindowStart(p.DateTime.Ticks, Size)) equals s
        select new NewUser(p.Id, p.Name, s.WindowStart);
}
