using LinqStream.Testing.Nexmark;

namespace LinqStream.Cli.Tests.Docs;

/// <summary>The C# of README.md, compiled and run.</summary>
public sealed class ReadmeExamples
{
    [Fact]
    public async Task Pitch_HotItems_GivesCounts()
    {
        var (bids, _, _) = DocsData.Streams();

        var hotItems =
            from b in bids.HoppingWindow(size: TimeSpan.FromSeconds(10), hop: TimeSpan.FromSeconds(2))
            group b by b.Auction into g
            select new { Auction = g.Key, Bids = g.Count(), g.Window.End };

        Assert.NotEmpty(await hotItems.ToListAsync());
    }

    [Fact]
    public async Task TenLineExample_Runs()
    {
        var output = new StringWriter();
        var console = Console.Out;
        Console.SetOut(output);
        try
        {
            var bids = new NexmarkGenerator(new NexmarkConfig { FirstEventRate = 10_000 }).Bids(100_000);
            var hot =
                from b in QStream.From(bids, b => b.DateTime).HoppingWindow(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2))
                group b by b.Auction into g
                where g.Count() > 500
                select new { Auction = g.Key, Bids = g.Count(), g.Window.End };
            foreach (var r in await hot.ToListAsync())
                Console.WriteLine($"{r.End:HH:mm:ss} auction {r.Auction}: {r.Bids} bids");
        }
        finally
        {
            Console.SetOut(console);
        }

        Assert.Contains(" bids", output.ToString(), StringComparison.Ordinal);
    }
}
