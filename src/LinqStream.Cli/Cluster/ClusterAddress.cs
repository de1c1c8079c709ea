using System.CommandLine;

namespace LinqStream.Cli.Cluster;

/// <summary><c>--cluster redis://HOST:PORT</c> and <c>--cluster-id</c>: the Redis server that holds the cluster's membership, jobs and checkpoints.</summary>
internal sealed record ClusterAddress(string Redis, string ClusterId)
{
    public const string DefaultClusterId = "linqstream";

    /// <summary>Gets the prefix of LinqStream's keys in Redis (the job registry, fences and checkpoints).</summary>
    public string KeyPrefix => "linqstream:" + ClusterId;

    public static Option<string> CreateOption() => new("--cluster", "-c")
    {
        Description = "The cluster's Redis server, redis://HOST:PORT: Orleans' membership (Microsoft.Orleans.Clustering.Redis), the job registry and the checkpoints.",
        Required = true,
    };

    public static Option<string> CreateIdOption() => new("--cluster-id")
    {
        Description = "The cluster's id (several clusters can share one Redis server).",
        DefaultValueFactory = _ => DefaultClusterId,
    };

    public static bool TryParse(string text, string clusterId, out ClusterAddress? address, out string reason)
    {
        address = null;
        if (!text.StartsWith("redis://", StringComparison.Ordinal) || text.Length == "redis://".Length || text["redis://".Length..].Contains('/', StringComparison.Ordinal))
        {
            reason = $"--cluster '{text}' is not redis://HOST:PORT";
            return false;
        }

        reason = "";
        address = new ClusterAddress(text["redis://".Length..], clusterId);
        return true;
    }
}
