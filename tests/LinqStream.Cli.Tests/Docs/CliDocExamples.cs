using System.Globalization;
using System.Text;
using System.Text.Json;
using LinqStream.Cli.Tests.EndToEnd;

namespace LinqStream.Cli.Tests.Docs;

/// <summary>The query scripts of docs/cli.md and README.md, run by the CLI over a small file.</summary>
[Trait("Category", "Slow")] // Slow (fast suite skips it): runs the linqstream CLI in child processes
public sealed class CliDocExamples : IDisposable
{
    private const string HotItems = """
        // hot-items.csx: bids per auction in 10-second windows
        from r in input.TumblingWindow(TimeSpan.FromSeconds(10))
        group r by r.Long("auction") into g
        select new { Auction = g.Key, Bids = g.Count(), Top = g.Max(r => r.Long("price")), g.Window.End }
        """;

    private const string BigBids = """
        // big-bids.csx: the same file read into a record
        record Bid(long Auction, long Price, string Channel, DateTime Time);

        from b in InputAs<Bid>()
        where b.Price >= 1_000
        select new { b.Auction, b.Price, b.Time }
        """;

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task HotItemsScript_CountsBidsPerAuctionAndWindow()
    {
        var lines = await RunAsync(HotItems);

        Assert.Equal(6, lines.Length); // 3 windows x 2 auctions
        Assert.All(lines, l => Assert.Equal(5, l.GetProperty("Bids").GetInt32()));
    }

    [Fact]
    public async Task BigBidsScript_KeepsBidsOfAtLeast1000()
    {
        var lines = await RunAsync(BigBids);

        Assert.Equal(30 - 10, lines.Length);
        Assert.All(lines, l => Assert.True(l.GetProperty("Price").GetInt64() >= 1_000));
    }

    private async Task<JsonElement[]> RunAsync(string script)
    {
        var bids = new StringBuilder();
        for (int i = 0; i < 30; i++)
        {
            bids.Append(CultureInfo.InvariantCulture, $"{{\"time\":\"2026-01-01T00:00:{i:00}Z\",\"auction\":{i % 2},\"price\":{i * 100},\"channel\":\"web\"}}\n");
        }

        string output = _folder.File("out.jsonl");
        var result = await CliProcess.RunAsync("run", _folder.Write("query.csx", script), "--input", _folder.Write("bids.jsonl", bids.ToString()), "--out", output, "--strict");

        Assert.True(result.ExitCode == 0, result.ToString());
        return [.. File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement)];
    }
}
