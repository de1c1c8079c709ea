using System.CommandLine;
using System.Diagnostics;
using LinqStream.Cli.Showcase;
using Spectre.Console;

namespace LinqStream.Cli.Commands;

/// <summary><c>linqstream demo</c>: generates a NEXMark data set and runs the showcase queries over it, with a table and a throughput line each.</summary>
internal static class DemoCommand
{
    private static readonly DemoQuery[] s_queries = [new HotItemsDemo(), new SessionsDemo(), new AuctionJoinDemo()];

    public static Command Create()
    {
        var events = Options.PositiveLong(
            "--events", "-n", "How many NEXMark events to generate (people, auctions and bids).", 2_000_000, Array.MaxLength);
        var rate = Options.PositiveLong(
            "--rate", null, "Event-time rate of the generated data, in events per second (2,000,000 events at 10,000/s span 200 s).", 10_000, 1_000_000_000);
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress bar or spinner; results and timings only." };

        var command = new Command("demo", "Generate NEXMark data and run the showcase queries (hot items, sessions, interval join).") { events, rate, quiet };
        command.SetAction((parse, cancellationToken) =>
            RunAsync(parse.GetValue(events), parse.GetValue(rate), parse.GetValue(quiet), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(long events, long rate, bool quiet, CancellationToken cancellationToken)
    {
        var console = AnsiConsole.Console;
        bool live = !quiet && console.Profile.Capabilities.Interactive;
        try
        {
            var data = live
                ? await console.Status().StartAsync($"Generating {Format.Count(events)} NEXMark events...", _ => Task.Run(() => DemoData.Generate(events, rate), cancellationToken)).ConfigureAwait(false)
                : DemoData.Generate(events, rate);
            Line(
                $"NEXMark data: {Format.Count(data.Events)} events ({Format.Count(data.Bids.Length)} bids, {Format.Count(data.Auctions.Length)} auctions) "
                + $"at {Format.Count(rate)} events/s of event time, spanning {Format.Seconds(data.Span)}. "
                + "(The generator's own default is 1,000,000 events/s; the demo's lower rate makes the data span minutes, "
                + "so the 10 s windows and 2 s session gap below are meaningful.) Each time below includes translating and compiling the query.");

            foreach (var query in s_queries)
            {
                cancellationToken.ThrowIfCancellationRequested();
                console.WriteLine();
                console.Write(new Rule($"[bold]{Markup.Escape(query.Name)}[/] ({Markup.Escape(query.Shape)})").LeftJustified());
                Line(query.Describe(data));
                var (result, elapsed) = await RunOneAsync(console, query, data, live, cancellationToken).ConfigureAwait(false);
                console.Write(result.Table);
                if (result.Note is not null)
                {
                    Line(result.Note);
                }

                long input = query.InputEvents(data);
                Line(
                    $"{query.Name}: {Format.Count(input)} events in {Format.Seconds(elapsed)}, {Format.Rate(input, elapsed)} events/s, {Format.Count(result.Results)} results");
            }

            return ExitCodes.Ok;
        }
        catch (OperationCanceledException)
        {
            console.WriteLine("Cancelled.");
            return ExitCodes.Failure;
        }
        catch (Exception ex)
        {
            console.Write(new Markup($"[red]The demo failed:[/] {Markup.Escape(ex.Message)}{Environment.NewLine}"));
            for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
            {
                console.WriteLine($"  {inner.GetType().Name}: {inner.Message}");
            }

            return ExitCodes.Failure;
        }
    }

    /// <summary>Writes a line of plain text unwrapped (Spectre wraps at the console width, 80 columns when redirected), so each line stays greppable.</summary>
    private static void Line(string text) => Console.Out.WriteLine(text);

    /// <summary>Runs one query on a pool thread; the elapsed time covers translation, compilation and the run (wall clock, measured by the CLI).</summary>
    private static async Task<(DemoResult Result, TimeSpan Elapsed)> RunOneAsync(IAnsiConsole console, DemoQuery query, DemoData data, bool live, CancellationToken cancellationToken)
    {
        var statistics = new IngressStatistics();
        var stopwatch = Stopwatch.StartNew();
        var run = Task.Run(() => query.Run(data, statistics), cancellationToken);
        if (live)
        {
            long total = query.InputEvents(data);
            await console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async ctx =>
                {
                    var task = ctx.AddTask(Markup.Escape(query.Name), maxValue: Math.Max(1, total));
                    while (!run.IsCompleted)
                    {
                        task.Value = statistics.Events;
                        await Task.WhenAny(run, Task.Delay(100, cancellationToken)).ConfigureAwait(false);
                    }

                    task.Value = total;
                }).ConfigureAwait(false);
        }

        var result = await run.ConfigureAwait(false);
        stopwatch.Stop();
        return (result, stopwatch.Elapsed);
    }
}
