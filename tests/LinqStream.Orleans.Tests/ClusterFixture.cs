using LinqStream.Connectors.Tests.Servers;
using Microsoft.Extensions.Configuration;
using Orleans.Configuration;
using Microsoft.Extensions.Hosting;
using Orleans.TestingHost;

namespace LinqStream.Orleans.Tests;

/// <summary>
/// One in-process Orleans test cluster of 3 silos for every test of the collection, with Redis clustering (so any silo, the
/// first one included, can be killed) and LinqStream on every silo, all keys under a prefix no other test run uses.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public string Redis { get; } = SharedServers.Redis;

    public string Prefix { get; } = SharedServers.UniqueName("lsq-orleans");

    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(3);
        builder.Properties["LinqStreamRedis"] = Redis;
        builder.Properties["LinqStreamPrefix"] = Prefix;
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    /// <summary>Short failure detection: a killed silo is declared dead within a few seconds (what docs/cluster.md recommends).</summary>
    public static void FastFailureDetection(ClusterMembershipOptions options)
    {
        options.ProbeTimeout = TimeSpan.FromSeconds(1);
        options.NumMissedProbesLimit = 2;
        options.NumVotesForDeathDeclaration = 1;
        options.TableRefreshTimeout = TimeSpan.FromSeconds(1);
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            var redis = siloBuilder.Configuration["LinqStreamRedis"]!;
            var prefix = siloBuilder.Configuration["LinqStreamPrefix"]!;
            siloBuilder.UseRedisClustering(redis);
            siloBuilder.Configure<ClusterMembershipOptions>(FastFailureDetection);
            siloBuilder.AddLinqStream(options =>
            {
                options.Redis = redis;
                options.KeyPrefix = prefix;
                options.SuperviseInterval = TimeSpan.FromMilliseconds(500);
                options.CheckpointStoreBelowLimit = StallingCheckpoints.Wrap;
                options.AddJob(GatedJob.Name, GatedJob.Create);
                options.AddJob(Tasks.SpreadJob.Name, Tasks.SpreadJob.Create);
                options.AddJob(Tasks.SpreadJob.OnRocksDbName, Tasks.SpreadJob.CreateOnRocksDb);
                options.AddJob(Tasks.ProjectedJob.Name, Tasks.ProjectedJob.Create);
            });
        }
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder)
        {
            clientBuilder.UseRedisClustering(configuration["LinqStreamRedis"]!);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
