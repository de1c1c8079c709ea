using LinqStream.Testing.Nexmark;

namespace LinqStream.Cli.Showcase;

/// <summary>
/// Runs one NEXMark query of <c>linqstream nexmark</c> over the generator's stream, generated as the query pulls it (memory stays flat at
/// any event count), and counts the generator events read.
/// </summary>
internal sealed class NexmarkRun(NexmarkConfig config, long events)
{
    /// <summary>The queries <c>linqstream nexmark</c> runs.</summary>
    public static readonly string[] Names = ["q0", "q1", "q2", "q5", "q7", "q8", "q11"];

    private long _read;

    /// <summary>Gets the number of generator events read so far (q8 reads the generator twice: once for people, once for auctions).</summary>
    public long Read => Volatile.Read(ref _read);

    /// <summary>Gets how many times the query reads the generator's stream.</summary>
    public static int Passes(string name) => name == "q8" ? 2 : 1;

    public static string Describe(string name) => name switch
    {
        "q0" => "pass-through: every bid",
        "q1" => "currency conversion: each bid's price in euros",
        "q2" => "selection: the bids on auctions whose id is a multiple of 123",
        "q5" => "hot items: bids per auction, hopping window of 10 s every 2 s",
        "q7" => "highest bid: the highest price in each 10 s tumbling window",
        "q8" => "new sellers: people who opened an auction in the 10 s window they registered in (window join)",
        "q11" => "user sessions: bids per bidder until a 2 s gap",
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown query name."),
    };

    /// <summary>Runs the query to the end (with <paramref name="options"/>, when given); returns the number of results.</summary>
    public long Run(string name, IngressStatistics statistics, QueryOptions? options = null) => name switch
    {
        "q0" => Drain(options, BuiltInQueries.PassThrough(BuiltInQueries.Bids(Bids(), statistics))),
        "q1" => Drain(options, BuiltInQueries.CurrencyConversion(BuiltInQueries.Bids(Bids(), statistics))),
        "q2" => Drain(options, BuiltInQueries.Selection(BuiltInQueries.Bids(Bids(), statistics))),
        "q5" => Drain(options, BuiltInQueries.HotItems(BuiltInQueries.Bids(Bids(), statistics))),
        "q7" => Drain(options, BuiltInQueries.HighestBids(BuiltInQueries.Bids(Bids(), statistics))),
        "q8" => Drain(options, BuiltInQueries.NewSellers(BuiltInQueries.People(People(), statistics), BuiltInQueries.Auctions(Auctions(), statistics))),
        "q11" => Drain(options, BuiltInQueries.Sessions(BuiltInQueries.Bids(Bids(), statistics))),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown query name."),
    };

    private static long Drain<T>(QueryOptions? options, IQStream<T> query) =>
        ResultObserver<T>.Drain(options is null ? query : query.WithOptions(options), static _ => { });

    private IEnumerable<Bid> Bids()
    {
        foreach (var e in Events())
        {
            if (e.Bid is { } bid)
            {
                yield return bid;
            }
        }
    }

    private IEnumerable<Person> People()
    {
        foreach (var e in Events())
        {
            if (e.Person is { } person)
            {
                yield return person;
            }
        }
    }

    private IEnumerable<Auction> Auctions()
    {
        foreach (var e in Events())
        {
            if (e.Auction is { } auction)
            {
                yield return auction;
            }
        }
    }

    private IEnumerable<NexmarkEvent> Events()
    {
        long count = 0;
        foreach (var e in new NexmarkGenerator(config).Events(events))
        {
            // One counter shared by every pass; the progress bar reads it from another thread.
            if ((++count & 1023) == 0)
            {
                Interlocked.Add(ref _read, 1024);
            }

            yield return e;
        }

        Interlocked.Add(ref _read, count & 1023);
    }
}
