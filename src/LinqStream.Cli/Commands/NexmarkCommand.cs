using System.CommandLine;
using System.Diagnostics;
using LinqStream.Cli.Output;
using LinqStream.Cli.Showcase;
using LinqStream.Testing.Nexmark;
using Spectre.Console;

namespace LinqStream.Cli.Commands;

/// <summary><c>linqstream nexmark --query q5 --events 10M</c>: runs one NEXMark query over the generator and reports its throughput.</summary>
internal static class NexmarkCommand
{
    public static Command Create()
    {
        var query = new Option<string>("--query", "-q")
        {
            Description = "The NEXMark query: q0 (pass-through), q1 (currency), q2 (selection), q5 (hot items), q7 (highest bid), q8 (new sellers, window join), q11 (sessions).",
            Required = true,
        };
        query.AcceptOnlyFromAmong(NexmarkRun.Names);
        var events = Options.PositiveLong(
            "--events", "-n", "How many NEXMark events to generate (people, auctions and bids), such as 500k or 10M.", 10_000_000, long.MaxValue / 2);
        var rate = Options.PositiveLong(
            "--rate", null, "Event-time rate of the generated data, in events per second (10M events at 10,000/s span 1,000 s).", 10_000, 1_000_000_000);
        var quiet = new Option<bool>("--quiet") { Description = "No progress bar; the result line only." };
        var progressInterval = RunCommand.ProgressIntervalOption();
        var parallelism = ParallelismOption.Create();

        var command = new Command("nexmark", "Run a NEXMark query over generated events and report events/s (generation included: events are generated as the query reads them).")
        {
            query, events, rate, quiet, progressInterval, parallelism,
        };
        command.SetAction((parse, cancellationToken) =>
            RunAsync(parse.GetValue(query)!, parse.GetValue(events), parse.GetValue(rate), parse.GetValue(quiet), parse.GetValue(progressInterval), parse.GetValue(parallelism), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string name, long events, long rate, bool quiet, TimeSpan? progressInterval, int parallelism, CancellationToken cancellationToken)
    {
        var console = AnsiConsole.Console;
        var run = new NexmarkRun(new NexmarkConfig { FirstEventRate = rate }, events);
        if (!quiet)
        {
            Console.Out.WriteLine($"NEXMark {name}, {NexmarkRun.Describe(name)}: {Format.Count(events)} events at {Format.Count(rate)} events/s of event time"
                + (parallelism > 1 ? $", parallelism {parallelism}." : "."));
        }

        var statistics = new IngressStatistics();
        bool showBar = !quiet && console.Profile.Capabilities.Interactive;
        var monitor = quiet ? null : new ProgressMonitor(name, showBar ? null : Console.Error);
        var options = monitor is null
            ? parallelism == 1 ? null : new QueryOptions { Parallelism = parallelism }
            : new QueryOptions { Progress = monitor, ProgressInterval = ProgressMonitor.Interval(progressInterval, showBar), Parallelism = parallelism };
        var stopwatch = Stopwatch.StartNew();
        var task = Task.Run(() => run.Run(name, statistics, options), cancellationToken);
        try
        {
            if (showBar)
            {
                long total = events * NexmarkRun.Passes(name);
                await console.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                    .StartAsync(async ctx =>
                    {
                        var bar = ctx.AddTask(name, maxValue: total);
                        while (!task.IsCompleted)
                        {
                            long read = run.Read;
                            bar.Value = read;
                            bar.Description = $"{name}: {Format.Count(read)} events, {Format.Rate(read, stopwatch.Elapsed)} events/s, "
                                + $"watermark lag {ProgressMonitor.Lag(monitor!.Latest?.WatermarkLag)}";
                            await Task.WhenAny(task, Task.Delay(100, cancellationToken)).ConfigureAwait(false);
                        }

                        bar.Value = total;
                        bar.Description = $"{name}: {Format.Count(run.Read)} events";
                    }).ConfigureAwait(false);
            }

            long results = await task.ConfigureAwait(false);
            stopwatch.Stop();
            string passes = NexmarkRun.Passes(name) == 1 ? "" : $" (read {NexmarkRun.Passes(name)} times: once per input)";
            string lag = monitor?.MaxLag is { } maxLag ? $", watermark lag up to {ProgressMonitor.Lag(maxLag)}" : "";
            Console.Out.WriteLine(
                $"{name}: {Format.Count(events)} events{passes} in {Format.Seconds(stopwatch.Elapsed)}, {Format.Rate(events, stopwatch.Elapsed)} events/s, {Format.Count(results)} results{lag}");
            return ExitCodes.Ok;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("Cancelled.");
            return ExitCodes.Failure;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"NEXMark {name} failed: {ex.Message}");
            for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
            {
                Console.Error.WriteLine($"  {inner.GetType().Name}: {inner.Message}");
            }

            return ExitCodes.Failure;
        }
    }
}
