using System.CommandLine;
using System.Globalization;
using LinqStream.Orleans;

namespace LinqStream.Cli.Cluster;

/// <summary><c>linqstream jobs --cluster redis://HOST:PORT</c>: lists the cluster's jobs with their state and progress.</summary>
internal static class JobsCommand
{
    public static Command Create()
    {
        var cluster = ClusterAddress.CreateOption();
        var clusterId = ClusterAddress.CreateIdOption();
        var command = new Command("jobs", "List the jobs of a LinqStream cluster: state, epoch, silo, progress, last checkpoint.") { cluster, clusterId };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!ClusterAddress.TryParse(parse.GetValue(cluster)!, parse.GetValue(clusterId)!, out var address, out string reason))
            {
                await Console.Error.WriteLineAsync($"jobs: {reason}.").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            using var host = await ClusterHosts.StartClientAsync(address!, cancellationToken).ConfigureAwait(false);
            var client = ClusterHosts.Client(host);
            var jobs = await client.ListJobsAsync().ConfigureAwait(false);
            if (jobs.Count == 0)
            {
                await Console.Out.WriteLineAsync("jobs: none").ConfigureAwait(false);
            }

            foreach (var recorded in jobs)
            {
                // A running job's progress lives in its grain; the registry holds the rest.
                var status = recorded.State == JobState.Running ? await client.GetJob(recorded.JobId).GetStatusAsync().ConfigureAwait(false) : recorded;
                await Console.Out.WriteLineAsync($"{status.JobId}  {status.State}  epoch {status.Epoch}  {status.Silo}  {Progress(status)}{(status.Error is { } e ? "  error: " + e : "")}").ConfigureAwait(false);
            }

            await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    public static string Progress(JobStatus status)
    {
        var lag = status.WatermarkLag is { } l ? l.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture) + " s" : "-";
        var age = status.LastCheckpointAge is { } a ? $" ({a.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s ago)" : "";
        return status.IsFinished
            ? $"{status.Results.ToString("N0", CultureInfo.InvariantCulture)} results, last checkpoint {status.LastCheckpoint}"
            : $"{status.EventsIn.ToString("N0", CultureInfo.InvariantCulture)} events, {status.EventsPerSecond.ToString("N0", CultureInfo.InvariantCulture)} events/s, watermark lag {lag}, last checkpoint {status.LastCheckpoint}{age}";
    }
}
