using StackExchange.Redis;

namespace LinqStream;

/// <summary>
/// A fencing token kept in Redis: the key holds the epoch of the one activation of a job that may write. Every fenced write (the
/// <see cref="RedisStreamSink{T}"/>'s chunks, the <see cref="RedisCheckpointStore"/>'s checkpoints) checks, in the same server-side
/// script that writes, that the key still holds <see cref="Epoch"/>, so an older activation that was declared dead but still runs
/// (a zombie) is refused instead of writing over its successor.
/// </summary>
/// <param name="Key">The Redis key that holds the current epoch.</param>
/// <param name="Epoch">The epoch of this activation (1, 2, ...).</param>
public sealed record RedisFence(string Key, long Epoch)
{
    /// <summary>Takes the next epoch: increments <paramref name="key"/> atomically, so every earlier holder is fenced off from now on.</summary>
    /// <param name="database">The database that holds the key.</param>
    /// <param name="key">The fence's key.</param>
    /// <returns>The new fence.</returns>
    public static async Task<RedisFence> TakeAsync(IDatabaseAsync database, string key)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        long epoch = await database.StringIncrementAsync(key).ConfigureAwait(false);
        return new RedisFence(key, epoch);
    }

    /// <summary>The Lua lines that refuse the write when <c>KEYS[fenceKey]</c> no longer holds <c>ARGV[epochArg]</c>.</summary>
    internal static string Check(int fenceKey, int epochArg) => $$"""
        if ARGV[{{epochArg}}] ~= '' then
          local current = redis.call('GET', KEYS[{{fenceKey}}])
          if current ~= ARGV[{{epochArg}}] then return redis.error_reply('LINQSTREAM-FENCED ' .. tostring(current)) end
        end
        """;

    /// <summary>Turns the script's refusal into the exception every fenced writer throws, or returns null for any other error.</summary>
    internal static FencedWriteException? Refused(RedisServerException error, RedisFence? fence, string writer)
    {
        const string Marker = "LINQSTREAM-FENCED";
        if (fence is null || !error.Message.StartsWith(Marker, StringComparison.Ordinal))
        {
            return null;
        }

        var current = error.Message[Marker.Length..].Trim();
        return new FencedWriteException(
            $"{writer} refused a write from epoch {fence.Epoch}: the fence {fence.Key} now holds {current}. A newer activation of the job took over; this one was declared dead and must stop.",
            fence.Epoch,
            long.TryParse(current, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out long now) ? now : null,
            error);
    }
}

/// <summary>A write refused because a newer epoch holds the writer's fence (see <see cref="RedisFence"/>).</summary>
public sealed class FencedWriteException : InvalidOperationException
{
    /// <summary>Initializes a new instance of the <see cref="FencedWriteException"/> class.</summary>
    /// <param name="message">What was refused and why.</param>
    /// <param name="epoch">The writer's epoch.</param>
    /// <param name="currentEpoch">The epoch the fence holds now, if it holds a number.</param>
    /// <param name="inner">The server's error.</param>
    public FencedWriteException(string message, long epoch, long? currentEpoch, Exception? inner)
        : base(message, inner)
    {
        Epoch = epoch;
        CurrentEpoch = currentEpoch;
    }

    /// <summary>Gets the epoch of the refused writer.</summary>
    public long Epoch { get; }

    /// <summary>Gets the epoch the fence holds now (<see langword="null"/> when the key is missing or not a number).</summary>
    public long? CurrentEpoch { get; }
}
