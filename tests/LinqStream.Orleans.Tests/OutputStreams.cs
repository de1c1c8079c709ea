using StackExchange.Redis;

namespace LinqStream.Orleans.Tests;

/// <summary>What a cluster job wrote to its Redis output stream, checked against the single-process run.</summary>
public static class OutputStreams
{
    /// <summary>Asserts that <paramref name="stream"/> holds exactly <paramref name="reference"/>, entry for entry, with the ids
    /// <c>0-1..0-n</c>: nothing lost, nothing written twice.</summary>
    public static async Task AssertEqualsAsync(string redis, string stream, List<string> reference)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis);
        var entries = await connection.GetDatabase().StreamRangeAsync(stream);
        Assert.Equal(reference.Count, entries.Length);
        Assert.Equal(reference, entries.Select(e => e["data"].ToString()).ToList());
        Assert.Equal(Enumerable.Range(1, entries.Length).Select(i => "0-" + i), entries.Select(e => e.Id.ToString()));
    }
}
