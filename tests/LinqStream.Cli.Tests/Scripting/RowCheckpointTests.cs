using System.Text.Json;
using LinqStream.Cli.Input;
using LinqStream.Cli.Scripting;
using LinqStream.Testing.Io;

namespace LinqStream.Cli.Tests.Scripting;

/// <summary>
/// Rows (a script's <c>input</c>, schema inferred from the file) inside a checkpoint: a job over out-of-order rows is stopped while
/// its reorder buffer holds rows, and restored (issue #17: <c>Row</c> had no JSON constructor, so such a restore failed).
/// </summary>
public sealed class RowCheckpointTests : IDisposable
{
    private readonly string _directory = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "linqstream-row-ckpt-" + Guid.NewGuid().ToString("N"))).FullName;

    public sealed record Total(long Auction, int Bids, double Price, int BidderChars, int Flags, long End);

    [Fact]
    public async Task Job_StoppedWithRowsInTheReorderBuffer_RestoresAndWritesTheUninterruptedOutput()
    {
        var rows = Rows(4_000, seed: 7);
        var reference = Reference(rows);

        string referencePath = Path.Combine(_directory, "reference.jsonl");
        await RunAsync(rows, referencePath, Path.Combine(_directory, "reference-ckpt"), stopAfter: -1);
        var expected = await File.ReadAllBytesAsync(referencePath);
        Assert.Equal(reference, (await File.ReadAllLinesAsync(referencePath)).Select(l => JsonSerializer.Deserialize<Total>(l, JsonSerializerOptions.Web)!).OrderBy(t => t.End).ThenBy(t => t.Auction).ToList());

        string outputPath = Path.Combine(_directory, "out.jsonl");
        string checkpoints = Path.Combine(_directory, "ckpt");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => RunAsync(rows, outputPath, checkpoints, stopAfter: reference.Count / 2));
        Assert.NotEmpty(new DirectoryCheckpointStore(checkpoints).List());

        var resumed = await RunAsync(rows, outputPath, checkpoints, stopAfter: -1);
        Assert.NotNull(resumed.RestoredFrom);
        Assert.Equal(expected, await File.ReadAllBytesAsync(outputPath));
    }

    [Fact]
    public void Row_WrittenAndReadAsJson_AnswersEveryAccessorAsTheOriginal()
    {
        var schema = new RowSchema(["auction", "price", "bidder", "flag", "extra", "time"], [FieldKind.Number, FieldKind.Number, FieldKind.String, FieldKind.Bool, FieldKind.Json, FieldKind.String], 5);
        var row = new Row(schema, [long.MaxValue, 2.0, "b\"1", true, "{\"a\":[1]}", "2026-12-04T10:00:00Z"], new DateTimeOffset(2026, 12, 4, 10, 0, 0, TimeSpan.Zero), 17);

        var copy = JsonSerializer.Deserialize<Row>(JsonSerializer.Serialize(row))!;

        Assert.Equal(row.Fields, copy.Fields);
        Assert.Equal(long.MaxValue, copy.Long("AUCTION"));
        Assert.IsType<double>(copy.Get("price")); // 2.0 stays a double
        Assert.Equal(2.0, copy.Double("price"));
        Assert.Equal("b\"1", copy.String("bidder"));
        Assert.True(copy.Bool("flag"));
        Assert.Equal("{\"a\":[1]}", copy.String("extra"));
        Assert.Equal(row.Time, copy.Time);
        Assert.Equal(17, copy.Line);
        Assert.Equal(row.ToString(), copy.ToString());
    }

    [Fact]
    public void Row_DamagedJson_FailsNamingTheReason()
    {
        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Row>("""{"names":["a","t"],"kinds":[0],"time":1,"values":[1,"x"],"at":0,"offset":0,"line":1}"""));
        Assert.Contains("as many names, kinds and values (2, 1, 2)", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Rows of the JSON lines a script reads, through the parser <c>run</c> uses; times out of order by up to 4 s.</summary>
    private static Row[] Rows(int count, int seed)
    {
        var random = new Random(seed);
        var schema = new RowSchema(["auction", "price", "bidder", "flag", "time"], [FieldKind.Number, FieldKind.Number, FieldKind.String, FieldKind.Bool, FieldKind.String], 4);
        var parser = new JsonRowParser(schema, 1);
        var start = new DateTimeOffset(2026, 12, 4, 0, 0, 0, TimeSpan.Zero);
        var rows = new Row[count];
        for (int i = 0; i < count; i++)
        {
            var time = start.AddMilliseconds((i * 10) + random.Next(0, 4_000));
            string price = random.Next(3) == 0 ? "1e3" : (random.Next(1, 1000) / 4.0).ToString(System.Globalization.CultureInfo.InvariantCulture);
            string line = $$"""{"auction":{{random.Next(1, 20)}},"price":{{price}},"bidder":"{{new string('b', random.Next(1, 5))}}","flag":{{(random.Next(2) == 0 ? "true" : "false")}},"time":"{{time:O}}"}""";
            Assert.True(parser.TryParse(line, i + 1, out var row, out _, out string reason), reason);
            rows[i] = row;
        }

        return rows;
    }

    private static IQStream<Total> Query(IQStream<Row> rows) =>
        from r in rows.TumblingWindow(TimeSpan.FromSeconds(2))
        group r by r.Long("auction") into g
        select new Total(g.Key, g.Count(), g.Sum(r => r.Double("price")), g.Sum(r => r.String("bidder").Length), g.Sum(r => r.Bool("flag") ? 1 : 0), g.Window.End.UtcTicks);

    /// <summary>LINQ to objects over the whole input, by window end then key (a window's keys come out in key-hash order, so the output is sorted the same way to compare).</summary>
    private static List<Total> Reference(Row[] rows)
    {
        long size = TimeSpan.FromSeconds(2).Ticks;
        return [.. rows
            .GroupBy(r => (End: ((r.Time.UtcTicks / size) + 1) * size, Auction: r.Long("auction")))
            .Select(g => new Total(g.Key.Auction, g.Count(), g.Sum(r => r.Double("price")), g.Sum(r => r.String("bidder").Length), g.Sum(r => r.Bool("flag") ? 1 : 0), g.Key.End))
            .OrderBy(t => t.End).ThenBy(t => t.Auction)];
    }

    private static async Task<JobResult> RunAsync(Row[] rows, string outputPath, string checkpointDirectory, int stopAfter)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        EventSink<Total> sink = new JsonLinesFileSink<Total>(outputPath);
        if (stopAfter >= 0)
        {
            sink = new StoppingSink<Total>(sink, stopAfter, cts);
        }

        var input = QStream.From(rows, r => r.Time, IngressPolicy.Reorder(TimeSpan.FromSeconds(5)));
        await using var job = Query(input).ToJob(sink, new JobOptions
        {
            Checkpoints = new DirectoryCheckpointStore(checkpointDirectory) { Retain = 3 },
            CheckpointEveryEvents = 500,
        });
        return await job.RunAsync(cts.Token);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
