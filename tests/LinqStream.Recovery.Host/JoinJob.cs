using System.Globalization;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Recovery.Host;

/// <summary>
/// The <c>job</c> mode: NEXMark auctions (alive from their start to their expiry) joined with the bids on them, counted per auction
/// in tumbling windows of one second, as a checkpointed job over JSON-lines files. It prints <c>fresh start</c> or
/// <c>restored from N</c> when the output is opened, <c>checkpoint N</c> after each checkpoint is stored, and <c>done …</c> at the end.
/// </summary>
internal static class JoinJob
{
    public static async Task<int> RunAsync(HostArguments args)
    {
        int maxLine = checked((int)args.Number("max-line", 16 << 20));
        var disorder = TimeSpan.FromMilliseconds(args.Number("disorder-ms", 500));
        var bidSource = new JsonLinesFileSource<Bid>(args.Text("input")) { MaxLineLength = maxLine };
        var auctionSource = new JsonLinesFileSource<Auction>(args.Text("auctions")) { MaxLineLength = maxLine };
        var options = new JobOptions
        {
            Checkpoints = new ReportingCheckpointStore(new DirectoryCheckpointStore(args.Text("checkpoints"))),
            CheckpointEveryEvents = args.Number("every"),
            DeadLetters = new JsonLinesFileSink<DeadLetter>(args.Text("dead-letter")),
            Parallelism = checked((int)args.Number("parallelism", 1)),
        };

        var auctions = QStream.From(auctionSource, a => a.DateTime, IngressPolicy.Reorder(disorder), "auctions")
            .WithLifetime(a => a.DateTime, a => a.Expires);
        var bids = QStream.From(bidSource, b => b.DateTime, IngressPolicy.Reorder(disorder), "bids");
        var query =
            from x in (from a in auctions join b in bids on a.Id equals b.Auction select new { a.Id, a.Category, b.Bidder, b.Price })
                .TumblingWindow(TimeSpan.FromSeconds(1))
            group x by x.Id into g
            select new { Auction = g.Key, End = g.Window.End, Bids = g.Count(), MaxPrice = g.Max(x => x.Price), Bidders = g.Select(x => x.Bidder).Distinct().Count() };
        var queryOptions = new QueryOptions { Strict = true, BatchSize = checked((int)args.Number("batch-size", QueryOptions.Default.BatchSize)) };
        return await RunAsync(query.WithOptions(queryOptions), args.Text("out"), options).ConfigureAwait(false);
    }

    private static async Task<int> RunAsync<T>(IQStream<T> query, string output, JobOptions options)
    {
        QueryJob<T>? started = null;
        var sink = new OpenReportingSink<T>(new JsonLinesFileSink<T>(output), () => started!.LastCheckpointId);
        await using var job = query.ToJob(sink, options);
        started = job;
        if (job.Guarantee != DeliveryGuarantee.ExactlyOnce)
        {
            throw new InvalidOperationException("The job is not exactly-once: " + job.GuaranteeReason);
        }

        var result = await job.RunAsync().ConfigureAwait(false);
        foreach (var warning in result.Warnings)
        {
            Console.WriteLine("warning " + warning);
        }

        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"done results={result.Results} deadletters={result.DeadLetters} checkpoints={result.Checkpoints} restored={result.RestoredFrom?.ToString(CultureInfo.InvariantCulture) ?? "none"}"));
        return 0;
    }

    /// <summary>Passes everything to the file sink; says on stdout whether the job started fresh or from a checkpoint.</summary>
    private sealed class OpenReportingSink<T>(EventSink<T> inner, Func<long> restoredCheckpoint) : EventSink<T>
    {
        public override string Name => inner.Name;

        public override bool IsTransactional => inner.IsTransactional;

        public override ValueTask OpenAsync(byte[]? committed, CancellationToken cancellationToken)
        {
            Console.WriteLine(committed is null ? "fresh start" : string.Create(CultureInfo.InvariantCulture, $"restored from {restoredCheckpoint()}"));
            return inner.OpenAsync(committed, cancellationToken);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<T> results, CancellationToken cancellationToken) => inner.WriteAsync(results, cancellationToken);

        public override ValueTask<byte[]> PrepareCommitAsync(long checkpointId, CancellationToken cancellationToken) => inner.PrepareCommitAsync(checkpointId, cancellationToken);

        public override ValueTask CommitAsync(long checkpointId, CancellationToken cancellationToken) => inner.CommitAsync(checkpointId, cancellationToken);

        public override ValueTask CompleteAsync(CancellationToken cancellationToken) => inner.CompleteAsync(cancellationToken);

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A directory store that prints <c>checkpoint N</c> once checkpoint N is durable.</summary>
    private sealed class ReportingCheckpointStore(DirectoryCheckpointStore inner) : CheckpointStore
    {
        public override async Task SaveAsync(long id, ReadOnlyMemory<byte> checkpoint, CancellationToken cancellationToken)
        {
            await inner.SaveAsync(id, checkpoint, cancellationToken).ConfigureAwait(false);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"checkpoint {id}"));
        }

        public override IReadOnlyList<long> List() => inner.List();

        public override Task<byte[]> LoadAsync(long id, CancellationToken cancellationToken) => inner.LoadAsync(id, cancellationToken);

        public override string Describe(long id) => inner.Describe(id);

        public override IDisposable? Acquire(string owner, Action<string> warn) => inner.Acquire(owner, warn);
    }
}
