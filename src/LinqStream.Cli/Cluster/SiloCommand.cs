using System.CommandLine;
using System.Net;

namespace LinqStream.Cli.Cluster;

/// <summary><c>linqstream silo --cluster redis://HOST:PORT</c>: runs one Orleans silo that runs LinqStream jobs, until Ctrl+C or SIGTERM.</summary>
internal static class SiloCommand
{
    public static Command Create()
    {
        var cluster = ClusterAddress.CreateOption();
        var clusterId = ClusterAddress.CreateIdOption();
        var host = new Option<string>("--host") { Description = "The address the silo listens on and advertises.", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "The silo-to-silo port.", DefaultValueFactory = _ => 11111 };
        var gatewayPort = new Option<int>("--gateway-port") { Description = "The port clients (submit, jobs) connect to.", DefaultValueFactory = _ => 30000 };
        var command = new Command("silo", "Run a silo of a LinqStream cluster: Orleans with Redis membership; it runs submitted jobs and takes over the jobs of silos that die.")
        {
            cluster, clusterId, host, port, gatewayPort,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!ClusterAddress.TryParse(parse.GetValue(cluster)!, parse.GetValue(clusterId)!, out var address, out string reason))
            {
                await Console.Error.WriteLineAsync($"silo: {reason}.").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            if (!IPAddress.TryParse(parse.GetValue(host), out var ip))
            {
                await Console.Error.WriteLineAsync($"silo: --host '{parse.GetValue(host)}' is not an IP address.").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            using var silo = ClusterHosts.Silo(address!, ip, parse.GetValue(port), parse.GetValue(gatewayPort));
            await silo.StartAsync(cancellationToken).ConfigureAwait(false);
            await Console.Out.WriteLineAsync(
                $"silo: up on {ip}:{parse.GetValue(port)} (gateway {parse.GetValue(gatewayPort)}), cluster '{address!.ClusterId}' in redis://{address.Redis}, process {Environment.ProcessId}").ConfigureAwait(false);
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C or SIGTERM: leave the cluster gracefully; the jobs running here move to the other silos.
            }

            await silo.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await Console.Out.WriteLineAsync("silo: stopped").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }
}
