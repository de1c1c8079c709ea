namespace LinqStream.Connectors.Tests.Servers;

/// <summary>
/// The servers most tests share: the ones .ci/servers.sh started (LINQSTREAM_REDIS, LINQSTREAM_NATS), or, when a developer runs
/// <c>dotnet test</c> alone, servers this test process starts once and kills when it exits.
/// </summary>
public static class SharedServers
{
    private static readonly Lazy<string> s_redis = new(() => FromEnvironmentOrStart("LINQSTREAM_REDIS", ServerProcess.StartRedis, p => $"127.0.0.1:{p}"));
    private static readonly Lazy<string> s_nats = new(() => FromEnvironmentOrStart("LINQSTREAM_NATS", ServerProcess.StartNats, p => $"nats://127.0.0.1:{p}"));

    /// <summary>Gets the Redis configuration string (<c>127.0.0.1:PORT</c>).</summary>
    public static string Redis => s_redis.Value;

    /// <summary>Gets the NATS URL (<c>nats://127.0.0.1:PORT</c>).</summary>
    public static string Nats => s_nats.Value;

    /// <summary>Gets a name no other test uses, so tests on one server do not see each other's streams.</summary>
    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    private static string FromEnvironmentOrStart(string variable, Func<ServerProcess> start, Func<int, string> address)
    {
        var configured = Environment.GetEnvironmentVariable(variable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }

        var server = start();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Dispose();
        return address(server.Port);
    }
}
