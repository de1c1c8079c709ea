using LinqStream.Connectors.Redis;
using StackExchange.Redis;

namespace LinqStream;

/// <summary>
/// Keeps rejected records in a Redis stream: one entry per dead letter with the fields <c>source</c>, <c>position</c>,
/// <c>reason</c> and <c>record</c>, in the order they were rejected.
/// </summary>
/// <remarks>
/// <see cref="Write"/> waits for the server's reply, so a dead letter is stored before the source moves past its record; if the
/// server cannot be reached, <see cref="Write"/> throws and the query fails rather than losing the record.
/// </remarks>
public sealed class RedisDeadLetterSink : IDeadLetterSink, IDisposable
{
    private static readonly RedisValue s_source = "source";
    private static readonly RedisValue s_position = "position";
    private static readonly RedisValue s_reason = "reason";
    private static readonly RedisValue s_record = "record";
    private readonly IConnectionMultiplexer _connection;
    private readonly bool _ownsConnection;
    private readonly IDatabase _database;
    private readonly RedisKey _key;

    /// <summary>Initializes a new instance of the <see cref="RedisDeadLetterSink"/> class with its own connection.</summary>
    /// <param name="configuration">The StackExchange.Redis configuration string, for example <c>127.0.0.1:6379</c>.</param>
    /// <param name="stream">The dead-letter stream's key.</param>
    public RedisDeadLetterSink(string configuration, string stream)
        : this(ConnectionMultiplexer.Connect(RedisConnections.Options(configuration, ReconnectPolicy.Default)), stream, ownsConnection: true)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RedisDeadLetterSink"/> class on a connection the caller owns.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="stream">The dead-letter stream's key.</param>
    public RedisDeadLetterSink(IConnectionMultiplexer connection, string stream)
        : this(connection, stream, ownsConnection: false)
    {
    }

    private RedisDeadLetterSink(IConnectionMultiplexer connection, string stream, bool ownsConnection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrWhiteSpace(stream);
        _connection = connection;
        _ownsConnection = ownsConnection;
        _database = connection.GetDatabase();
        _key = stream;
    }

    /// <inheritdoc/>
    public void Write(DeadLetter letter)
    {
        ArgumentNullException.ThrowIfNull(letter);
        _database.StreamAdd(_key, [
            new NameValueEntry(s_source, letter.Source),
            new NameValueEntry(s_position, letter.Position),
            new NameValueEntry(s_reason, letter.Reason),
            new NameValueEntry(s_record, letter.Record),
        ]);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsConnection)
        {
            _connection.Dispose();
        }
    }
}
