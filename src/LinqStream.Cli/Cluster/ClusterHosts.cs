using System.Net;
using LinqStream.Orleans;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace LinqStream.Cli.Cluster;

/// <summary>The Orleans hosts of the cluster verbs: a silo (<c>silo</c>) and a client (<c>submit</c>, <c>jobs</c>).</summary>
internal static class ClusterHosts
{
    /// <summary>
    /// Failure detection tuned for jobs that should resume within seconds: a silo that misses 2 probes of 1 s is suspected, and one
    /// vote declares it dead (Orleans' defaults take about 30 s). On a loaded machine a slow silo may be declared dead too early:
    /// its jobs then move (exactly once, fenced), and the silo, learning it was declared dead, stops.
    /// </summary>
    public static void FastFailureDetection(ClusterMembershipOptions options)
    {
        options.ProbeTimeout = TimeSpan.FromSeconds(1);
        options.NumMissedProbesLimit = 2;
        options.NumVotesForDeathDeclaration = 1;
        options.TableRefreshTimeout = TimeSpan.FromSeconds(1);
    }

    public static IHost Silo(ClusterAddress address, IPAddress host, int siloPort, int gatewayPort)
    {
        var builder = Host.CreateApplicationBuilder();
        Quiet(builder.Logging);
        builder.UseOrleans(silo =>
        {
            silo.UseRedisClustering(address.Redis);
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = address.ClusterId;
                o.ServiceId = address.ClusterId;
            });
            silo.ConfigureEndpoints(host, siloPort, gatewayPort);
            silo.Configure<ClusterMembershipOptions>(FastFailureDetection);
            silo.AddLinqStream(o =>
            {
                o.Redis = address.Redis;
                o.KeyPrefix = address.KeyPrefix;
                o.AddJob(ScriptJob.Name, ScriptJob.Create);
            });
        });
        return builder.Build();
    }

    public static async Task<IHost> StartClientAsync(ClusterAddress address, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder();
        Quiet(builder.Logging);
        builder.UseOrleansClient(client =>
        {
            client.UseRedisClustering(address.Redis);
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = address.ClusterId;
                o.ServiceId = address.ClusterId;
            });
        });
        var host = builder.Build();
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        return host;
    }

    public static IClusterClient Client(IHost host) => host.Services.GetRequiredService<IClusterClient>();

    private static void Quiet(ILoggingBuilder logging)
    {
        // Orleans logs a lot at Information; a silo's own lines (jobs started, fenced, failed) stay visible.
        logging.SetMinimumLevel(LogLevel.Warning);
        logging.AddFilter("LinqStream", LogLevel.Information);
    }
}
