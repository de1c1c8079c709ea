using System.Text;
using System.Text.Json;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Recovery.Tests;

/// <summary>NEXMark bids and auctions written as JSON lines (camelCase, as the host's JSON-lines sources read them by default).</summary>
internal static class NexmarkFiles
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Generates <paramref name="events"/> NEXMark events with bounded disorder and writes the bids and the auctions.</summary>
    /// <param name="directory">Where to write bids.jsonl and auctions.jsonl.</param>
    /// <param name="events">The number of events (46 of every 50 are bids, 3 auctions).</param>
    /// <param name="disorder">The largest delay of an event behind the newest one.</param>
    /// <param name="badEvery">Every this many bids, a malformed line is written too (0: none); returns how many.</param>
    /// <returns>The bid and auction files and the number of malformed lines.</returns>
    public static (string Bids, string Auctions, int BadLines) Write(string directory, int events, TimeSpan disorder, int badEvery)
    {
        var generator = new NexmarkGenerator(new NexmarkConfig { FirstEventRate = 10_000, MaxDisorder = disorder });
        var all = generator.EventsArray(events);
        string bids = Path.Combine(directory, "bids.jsonl"), auctions = Path.Combine(directory, "auctions.jsonl");
        int bad = 0;
        using (var writer = new StreamWriter(bids, false, new UTF8Encoding(false)))
        {
            int n = 0;
            foreach (var bid in all.Where(e => e.Bid is not null).Select(e => e.Bid!))
            {
                string line = JsonSerializer.Serialize(bid, Json);
                if (badEvery > 0 && ++n % badEvery == 0)
                {
                    // A record cut short, as a crashed writer would leave it.
                    writer.Write(line.AsSpan(0, line.Length / 2));
                    writer.Write('\n');
                    bad++;
                }

                writer.Write(line);
                writer.Write('\n');
            }
        }

        File.WriteAllLines(auctions, all.Where(e => e.Auction is not null).Select(e => JsonSerializer.Serialize(e.Auction!, Json)));
        return (bids, auctions, bad);
    }
}
