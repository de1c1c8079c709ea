using System.CommandLine;
using LinqStream.Cli.Commands;
using LinqStream.Cli.Input;
using LinqStream.Cli.Scripting;
using LinqStream.Orleans;

namespace LinqStream.Cli.Cluster;

/// <summary>
/// <c>linqstream submit QUERY.csx --cluster redis://HOST:PORT --source URI... --sink redis://HOST:PORT/STREAM</c>: checks the
/// script here, then sends its text to the cluster, where a silo compiles and runs it as a job (see docs/cluster.md).
/// </summary>
internal static class SubmitCommand
{
    public static Command Create()
    {
        var script = new Argument<FileInfo>("QUERY.csx") { Description = "The C# query script (as for run)." }.AcceptExistingOnly();
        var cluster = ClusterAddress.CreateOption();
        var clusterId = ClusterAddress.CreateIdOption();
        var source = new Option<string[]>("--source", "-s") { Description = "A partition of the input, " + SourceUri.Forms + "; repeat it. Read up to the message that is last when the job starts; " + SourceUri.CountForm + ".", Arity = ArgumentArity.OneOrMore, Required = true };
        var sink = new Option<string>("--sink") { Description = "The output, redis://HOST:PORT/STREAM (exactly once, fenced).", Required = true };
        var time = new Option<string>("--time", "-t") { Description = "The field holding each record's event time.", DefaultValueFactory = _ => "time" };
        var maxDelay = new Option<TimeSpan>("--max-delay") { Description = "Sort records up to this much out of order (500ms, 5s).", CustomParser = r => Durations.Parse(r, "--max-delay") };
        var idleTimeout = new Option<TimeSpan?>("--idle-timeout") { Description = "A partition with no message for this long stops holding the watermark back.", CustomParser = r => Durations.Parse(r, "--idle-timeout") };
        var jobId = new Option<string>("--job-id") { Description = "The job's id (default: the script's name and a random suffix)." };
        var every = new Option<long>("--checkpoint-every") { Description = "Input events between checkpoints.", DefaultValueFactory = _ => 10_000 };
        var interval = new Option<TimeSpan>("--checkpoint-interval") { Description = "Time between checkpoints.", DefaultValueFactory = _ => TimeSpan.FromSeconds(5), CustomParser = r => Durations.Parse(r, "--checkpoint-interval") };
        var parallelism = new Option<int?>("--parallelism")
        {
            Description = "Spread the query's keyed window aggregate over N tasks that run as grains on the silos (min(N, sources) source tasks read "
                + "the --source partitions in contiguous groups; a lost silo rolls the whole job back to its last checkpoint). Without it the job runs in one grain.",
        };
        parallelism.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is { } value && value is < 1 or > 1024)
            {
                result.AddError($"--parallelism must be between 1 and 1024; '{value}' is not.");
            }
        });
        var wait = new Option<bool>("--wait") { Description = "Wait until the job ends, printing its progress every second; the exit code is 0 only if it completed." };
        var command = new Command("submit", "Submit a query script to a LinqStream cluster as a job; it survives the loss of the silo that runs it.")
        {
            script, cluster, clusterId, source, sink, time, maxDelay, idleTimeout, jobId, every, interval, parallelism, wait,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!ClusterAddress.TryParse(parse.GetValue(cluster)!, parse.GetValue(clusterId)!, out var address, out string reason))
            {
                await Console.Error.WriteLineAsync($"submit: {reason}.").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            var path = parse.GetResult(script)!.Tokens[0].Value;
            var query = QueryScript.Load(path);
            if (!await RunCommand.ReportDiagnosticsAsync(query, quiet: true, cancellationToken).ConfigureAwait(false))
            {
                return ExitCodes.BadQuery;
            }

            var id = parse.GetValue(jobId) ?? $"{Path.GetFileNameWithoutExtension(path)}-{Guid.NewGuid().ToString("N")[..8]}";
            var submission = ScriptJob.Submission(
                Path.GetFileName(path), query.Code, parse.GetValue(source)!, parse.GetValue(sink)!, parse.GetValue(time)!, parse.GetValue(maxDelay), parse.GetValue(idleTimeout),
                parse.GetValue(every), parse.GetValue(interval)) with { Parallelism = parse.GetValue(parallelism) };
            using var host = await ClusterHosts.StartClientAsync(address!, cancellationToken).ConfigureAwait(false);
            var client = ClusterHosts.Client(host);
            ClusterJobHandle job;
            try
            {
                job = await client.SubmitAsync(id, submission).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
            {
                await Console.Error.WriteLineAsync($"submit: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.Failure;
            }

            var status = await job.GetStatusAsync().ConfigureAwait(false);
            await Console.Out.WriteLineAsync($"submit: job {id} {status.State} (epoch {status.Epoch}) on {status.Silo}").ConfigureAwait(false);
            if (!parse.GetValue(wait))
            {
                await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            long epoch = status.Epoch;
            string? silo = status.Silo;
            var done = await job.WaitAsync(TimeSpan.FromSeconds(1), s =>
            {
                if (s.Epoch != epoch)
                {
                    // Another silo took the job over, or (a job spread over silos lost a task) its coordinator rolled it back in place.
                    Console.Out.WriteLine(s.Silo == silo
                        ? $"submit: job {id} rolled back: epoch {s.Epoch} on {s.Silo}, restoring from its last checkpoint"
                        : $"submit: job {id} taken over: epoch {s.Epoch} on {s.Silo}, restoring from its last checkpoint");
                    epoch = s.Epoch;
                    silo = s.Silo;
                }
                else if (!s.IsFinished)
                {
                    Console.Out.WriteLine($"submit: job {id} {JobsCommand.Progress(s)}");
                }

                return s.IsFinished;
            }, cancellationToken: cancellationToken).ConfigureAwait(false);
            await Console.Out.WriteLineAsync(done.State == JobState.Completed
                ? $"submit: job {id} completed: {done.Results:N0} results written by epoch {done.Epoch} on {done.Silo}{(done.RestoredFrom is { } r ? $", restored from checkpoint {r}" : "")}"
                : $"submit: job {id} {done.State}: {done.Error}").ConfigureAwait(false);
            await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
            return done.State == JobState.Completed ? ExitCodes.Ok : ExitCodes.Failure;
        });
        return command;
    }
}
