using System.Globalization;

namespace LinqStream.Cli.Tests.EndToEnd;

/// <summary><c>linqstream run --state rocksdb:DIR</c> writes what the heap backend writes, and keeps its state files under DIR.</summary>
[Trait("Category", "Slow")] // Slow (fast suite skips it): runs the linqstream CLI in child processes
public sealed class StateBackendTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Run_SessionsOnRocksDb_WritesTheHeapBackendsOutput()
    {
        var origin = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var lines = Enumerable.Range(0, 20_000).Select(i => string.Create(CultureInfo.InvariantCulture,
            $"{{\"time\":\"{origin.AddMilliseconds(i * 10):O}\",\"auction\":{i * 7919 % 3000},\"price\":{i % 97}}}"));
        string input = _folder.Write("bids.jsonl", string.Join("\n", lines) + "\n");
        string script = _folder.Write("sessions.csx", """
            from r in input.SessionWindow(TimeSpan.FromSeconds(20))
            group r by r.Long("auction") into g
            select new { Auction = g.Key, N = g.Count(), Total = g.Sum(r => r.Long("price")), g.Window.End }
            """);
        string heap = _folder.File("heap.jsonl"), rocks = _folder.File("rocks.jsonl"), state = _folder.File("state");

        var expected = await CliProcess.RunAsync("run", script, "--input", input, "--out", heap, "--quiet");
        var result = await CliProcess.RunAsync("run", script, "--input", input, "--out", rocks, "--quiet", "--state", "rocksdb:" + state, "--checkpoints", _folder.File("checkpoints"), "--checkpoint-every", "2k");

        Assert.True(expected.ExitCode == 0, expected.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.NotEmpty(File.ReadAllLines(heap));
        Assert.Equal(File.ReadAllLines(heap), File.ReadAllLines(rocks));
        Assert.True(Directory.Exists(Path.Combine(state, "shared")), "no state directory under --state");
    }
}
