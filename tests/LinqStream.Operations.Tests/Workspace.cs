using System.Net;
using System.Net.Sockets;
using LinqStream.Connectors.Tests.Cli;
using LinqStream.Connectors.Tests.Servers;
using StackExchange.Redis;

namespace LinqStream.Operations.Tests;

/// <summary>A temporary directory with the query script, a Redis stream of bids made by <c>linqstream produce</c>, and helpers to read streams back.</summary>
internal sealed class Workspace : IDisposable
{
    /// <summary>A filter, a hopping window and a grouped count: three operators in the plan, state that spans checkpoints.</summary>
    public const string HotItems = """
        from b in input.Where(b => b.Long("price") > 100).HoppingWindow(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2))
        group b by b.Long("auction") into g
        select new { Auction = g.Key, Bids = g.Count(), g.Window.End }
        """;

    public Workspace()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("linqstream-ops-").FullName;
        Script = Path.Combine(Directory, "hot.csx");
        File.WriteAllText(Script, HotItems);
    }

    public string Directory { get; }

    public string Script { get; }

    public static string Redis => SharedServers.Redis;

    public string PathOf(string name) => Path.Combine(Directory, name);

    /// <summary>Writes <paramref name="events"/> generated NEXMark bids into a new stream and returns its URI.</summary>
    public static async Task<string> ProduceAsync(string events, params string[] more)
    {
        string uri = $"redis://{Redis}/{SharedServers.UniqueName("bids")}";
        var produced = await CliProcess.RunAsync(["produce", "--target", uri, "--events", events, "--quiet", .. more]);
        Assert.True(produced.ExitCode == 0, produced.ToString());
        return uri;
    }

    public static string NewStream(string prefix) => $"redis://{Redis}/{SharedServers.UniqueName(prefix)}";

    /// <summary>Appends raw messages (field <c>data</c>, as the connector reads them) to a stream.</summary>
    public static async Task AppendAsync(string uri, params string[] messages)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(Redis);
        foreach (string message in messages)
        {
            await connection.GetDatabase().StreamAddAsync(uri[(uri.LastIndexOf('/') + 1)..], "data", message);
        }
    }

    /// <summary>Every entry of a stream as "id name=value ...", in order.</summary>
    public static async Task<string[]> ReadStreamAsync(string uri)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(Redis);
        var entries = await connection.GetDatabase().StreamRangeAsync(uri[(uri.LastIndexOf('/') + 1)..]);
        return [.. entries.Select(e => $"{e.Id} {string.Join(' ', e.Values.Select(v => $"{v.Name}={v.Value}"))}")];
    }

    public static async Task<string> LastEntryIdAsync(string uri)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(Redis);
        var last = await connection.GetDatabase().StreamRangeAsync(uri[(uri.LastIndexOf('/') + 1)..], "-", "+", count: 1, messageOrder: Order.Descending);
        return last.Single().Id.ToString();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A killed job's file may still be closing; the directory is in /tmp.
        }
    }
}
