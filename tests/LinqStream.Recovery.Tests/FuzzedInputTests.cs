using System.Text.Json;
using LinqStream.Testing.Io;
using LinqStream.Testing.Nexmark;
using Xunit.Abstractions;

namespace LinqStream.Recovery.Tests;

/// <summary>
/// Damaged input never stops a job and never costs a valid record: every valid line comes out as a result, every bad line goes to
/// the dead letters with its line number, byte offset and a reason, and blank lines are neither.
/// </summary>
[Trait("Category", "Slow")] // Slow (fast suite skips it): runs the CLI host in child processes
public sealed class FuzzedInputTests(ITestOutputHelper output) : IDisposable
{
    private const int MaxLineLength = 4096;
    private static readonly TimeSpan Disorder = TimeSpan.FromMilliseconds(200);
    private readonly string _directory = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "linqstream-fuzz-" + Guid.NewGuid().ToString("N"))).FullName;

    public static TheoryData<int> Seeds() => [1, 2, 3, 4, 5, 6, 7, 8];

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task FuzzedFile_InProcess_EveryValidRecordOut_EveryBadLineDeadLettered(int seed)
    {
        var bids = new NexmarkGenerator(new NexmarkConfig { Seed = seed, FirstEventRate = 10_000, MaxDisorder = Disorder }).Bids(3_000);
        string path = Path.Combine(_directory, $"bids{seed}.jsonl");
        var file = FuzzedFile.Write(path, bids, seed, MaxLineLength);
        output.WriteLine($"{file.Valid.Count} valid lines, {file.Bad.Count} bad: " + string.Join(", ", file.Bad.GroupBy(b => b.Kind).Select(g => $"{g.Count()} {g.Key}")));

        var results = new MemorySink<Bid>();
        var letters = new MemorySink<DeadLetter>();
        var source = new JsonLinesFileSource<Bid>(path) { MaxLineLength = MaxLineLength };
        var query = QStream.From(source, b => b.DateTime, IngressPolicy.Reorder(Disorder), "bids").Where(b => b.Price >= 0);
        JobResult result;
        await using (var job = query.ToJob(results, new JobOptions { DeadLetters = letters }))
        {
            result = await job.RunAsync();
        }

        // Every bad line, in file order, where it is.
        Assert.Equal(file.Bad.Select(b => b.Position), letters.Items.Select(l => l.Position));
        Assert.Equal(file.Bad.Count, result.DeadLetters);

        // Every valid record, no more (the query reorders by time, so compare as sets of lines).
        Assert.True(results.Completed);
        Assert.Equal(file.Valid.Count, result.Results);
        Assert.Equal(Sorted(file.Valid), Sorted(results.Items));
        for (int i = 0; i < file.Bad.Count; i++)
        {
            var (position, kind, text) = file.Bad[i];
            var letter = letters.Items[i];
            Assert.Equal(path, letter.Source);
            Assert.False(string.IsNullOrWhiteSpace(letter.Reason), $"{position} ({kind}) has no reason");
            if (text is not null)
            {
                Assert.Equal(text, letter.Record);
            }

            if (kind == "invalid UTF-8")
            {
                Assert.Contains("\uFFFD", letter.Record, StringComparison.Ordinal);
            }

            if (kind == "too long")
            {
                Assert.Contains("MaxLineLength", letter.Reason, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task FuzzedFile_InHostProcess_ExitsZero_OutputEqualsCleanFile()
    {
        var (cleanBids, auctions, _) = NexmarkFiles.Write(_directory, 20_000, Disorder, badEvery: 0);
        var bids = File.ReadLines(cleanBids).Select(l => JsonSerializer.Deserialize<Bid>(l, NexmarkFiles.Json)!).ToList();
        string fuzzed = Path.Combine(_directory, "fuzzed.jsonl");
        var file = FuzzedFile.Write(fuzzed, bids, seed: 99, MaxLineLength);

        var clean = await RunHostAsync("clean", cleanBids, auctions);
        var damaged = await RunHostAsync("damaged", fuzzed, auctions);
        output.WriteLine($"{file.Bad.Count} bad lines; clean run: {clean.Output.Length} bytes out");
        Assert.True(clean.Output.Length > 10_000, $"the clean run wrote only {clean.Output.Length} bytes");
        Assert.Empty(clean.Letters);

        // The valid records of the damaged file are exactly the clean file's records, so the results are the same bytes.
        Assert.Equal(clean.Output, damaged.Output);
        var letters = damaged.Letters.Select(l => JsonSerializer.Deserialize<DeadLetter>(l, NexmarkFiles.Json)!).ToList();
        Assert.Equal(file.Bad.Select(b => b.Position), letters.Select(l => l.Position));
        Assert.All(letters, l => Assert.False(string.IsNullOrWhiteSpace(l.Reason)));
        Assert.All(letters, l => Assert.Equal(fuzzed, l.Source));
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    public async Task LineOfExactlyMaxLineLength_IsRead_OneByteMore_IsDeadLettered(string ending)
    {
        // The limit counts the line's bytes, not its ending: a line of MaxLineLength bytes is read, with LF or CRLF, also at the end of the file.
        const int Max = 300;
        string Line(int length, long auction)
        {
            string plain = $"{{\"auction\":{auction},\"dateTime\":\"2026-01-01T00:00:00Z\",\"extra\":\"\"}}";
            return plain.Insert(plain.Length - 2, new string('p', length - plain.Length));
        }

        string path = Path.Combine(_directory, "boundary.jsonl");
        string[] lines = [Line(Max, 1), Line(Max + 1, 2), Line(Max - 1, 3), Line(Max + 2, 4), Line(Max, 5)];
        await File.WriteAllTextAsync(path, string.Join(ending, lines) + ending + Line(Max + 1, 6));
        var results = new MemorySink<Bid>();
        var letters = new MemorySink<DeadLetter>();
        var source = new JsonLinesFileSource<Bid>(path) { MaxLineLength = Max };
        await using (var job = QStream.From(source, b => b.DateTime).Where(b => b.Price >= 0).ToJob(results, new JobOptions { DeadLetters = letters }))
        {
            await job.RunAsync();
        }

        Assert.Equal([1L, 3L, 5L], results.Items.Select(b => b.Auction));
        int stride = ending.Length;
        Assert.Equal(
            [$"line 2 (byte {Max + stride})", $"line 4 (byte {(3 * Max) + 3 * stride})", $"line 6 (byte {(5 * Max) + 2 + 5 * stride})"],
            letters.Items.Select(l => l.Position));
        Assert.All(letters.Items, l => Assert.Contains($"longer than {Max} bytes", l.Reason, StringComparison.Ordinal));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static List<string> Sorted(IEnumerable<Bid> bids) => [.. bids.Select(b => JsonSerializer.Serialize(b, NexmarkFiles.Json)).Order(StringComparer.Ordinal)];

    private async Task<(byte[] Output, string[] Letters)> RunHostAsync(string name, string bids, string auctions)
    {
        string directory = Directory.CreateDirectory(Path.Combine(_directory, name)).FullName;
        using var host = HostProcess.Start(
            "job", "--input", bids, "--auctions", auctions, "--max-line", MaxLineLength.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--out", Path.Combine(directory, "out.jsonl"), "--dead-letter", Path.Combine(directory, "dl.jsonl"),
            "--checkpoints", Path.Combine(directory, "checkpoints"), "--every", "2000");
        int code = await host.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.True(code == 0, $"the host exited with {code} on the {name} file:\n{host.Transcript()}\n{await host.ErrorsAsync()}");
        return (File.ReadAllBytes(Path.Combine(directory, "out.jsonl")), File.ReadAllLines(Path.Combine(directory, "dl.jsonl")));
    }
}
