using System.Buffers;
using System.Buffers.Binary;

namespace LinqStream.Connectors;

/// <summary>
/// What a server-specific exactly-once sink does (Redis stream, JetStream subject); <see cref="ExactlyOnceSinkProtocol{T}"/> does the rest.
/// </summary>
/// <remarks>
/// The n-th result of a job has the sequence number n, and the target must be able to say which is the last sequence it holds,
/// and to write a chunk again without duplicating what it already holds (Redis: ids at or below the last one are skipped by the
/// append script; JetStream: message ids and the server's duplicate window).
/// </remarks>
internal interface IExactlyOnceTarget
{
    /// <summary>Connects (when needed) and reads the sequence of the last result the target holds, 0 when it holds none.</summary>
    /// <exception cref="InvalidOperationException">The target holds output this sink did not write.</exception>
    ValueTask<long> OpenAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Writes <paramref name="chunk"/>'s results; <paramref name="retry"/> after a transient failure of the same chunk, when the target
    /// may already hold some of them (it drops them with <see cref="ExactlyOnceChunk.DropThrough"/> or skips them itself).
    /// </summary>
    /// <exception cref="InvalidOperationException">The target refused the results, or went backwards (lost output it had acknowledged).</exception>
    ValueTask WriteAsync(ExactlyOnceChunk chunk, bool retry, CancellationToken cancellationToken);

    /// <summary>Whether a failure is worth retrying (a lost connection, a timeout).</summary>
    bool IsTransient(Exception error);

    /// <summary>The position of a sequence in the target's words, for messages and <see cref="ConnectionStatus.Position"/> (<c>0-42</c>, <c>prefix-42</c>).</summary>
    string Position(long sequence);

    /// <summary>The error when the target holds fewer results than the checkpoint committed: it lost committed output.</summary>
    Exception LostCommittedOutput(long last, long committed);
}

/// <summary>The results waiting to be written: their sequence numbers and serialized bytes, in order.</summary>
internal sealed class ExactlyOnceChunk
{
    private readonly ArrayBufferWriter<byte> _bytes = new(64 * 1024);
    private readonly List<(long Sequence, int Start, int Length)> _items = [];
    private int _first;

    /// <summary>Gets how many results wait.</summary>
    public int Count => _items.Count - _first;

    /// <summary>Gets the sequence of the chunk's first result, including any dropped since.</summary>
    public long StartSequence => _items[0].Sequence;

    /// <summary>Gets the sequence of the first result that waits.</summary>
    public long FirstSequence => _items[_first].Sequence;

    /// <summary>Gets the sequence of the last result that waits.</summary>
    public long LastSequence => _items[^1].Sequence;

    /// <summary>Gets the i-th waiting result: its sequence and its bytes.</summary>
    public (long Sequence, ReadOnlyMemory<byte> Bytes) this[int index]
    {
        get
        {
            var (sequence, start, length) = _items[_first + index];
            return (sequence, _bytes.WrittenMemory.Slice(start, length));
        }
    }

    /// <summary>Drops the waiting results the target already holds (sequence at or below <paramref name="stored"/>); true when none is left.</summary>
    public bool DropThrough(long stored)
    {
        while (_first < _items.Count && _items[_first].Sequence <= stored)
        {
            _first++;
        }

        return Count == 0;
    }

    internal void Add<T>(long sequence, T value, EventSerializer<T> serializer)
    {
        int start = _bytes.WrittenCount;
        serializer.Serialize(value, _bytes);
        _items.Add((sequence, start, _bytes.WrittenCount - start));
    }

    internal void Clear()
    {
        _items.Clear();
        _first = 0;
        _bytes.ResetWrittenCount();
    }
}

/// <summary>
/// The exactly-once protocol the Redis and NATS sinks share: the checkpoint keeps the sequence of the last result produced;
/// opening reads the last sequence the target holds (and fails when that is below the committed one); results a restored job
/// produces again up to that sequence are skipped; the rest go out in chunks, each retried on transient failures within a bound.
/// </summary>
/// <typeparam name="T">The result type.</typeparam>
internal sealed class ExactlyOnceSinkProtocol<T>
{
    private readonly string _name;
    private readonly byte _stateFormat;
    private readonly string _sinkKind;
    private readonly EventSerializer<T> _serializer;
    private readonly int _chunkSize;
    private readonly ConnectorHealth _health;
    private readonly ExactlyOnceChunk _pending = new();
    private IExactlyOnceTarget? _target;
    private long _sequence;
    private long _existing;

    /// <param name="name">The sink's name in messages.</param>
    /// <param name="sinkKind">The sink's kind in the error about a foreign checkpoint state ("a Redis stream sink").</param>
    /// <param name="stateFormat">The first byte of the checkpoint state, which tells this sink's state from another's.</param>
    /// <param name="serializer">Encodes a result.</param>
    /// <param name="chunkSize">How many results go to the target in one write.</param>
    /// <param name="health">The sink's connection state.</param>
    public ExactlyOnceSinkProtocol(string name, string sinkKind, byte stateFormat, EventSerializer<T> serializer, int chunkSize, ConnectorHealth health)
    {
        _name = name;
        _sinkKind = sinkKind;
        _stateFormat = stateFormat;
        _serializer = serializer;
        _chunkSize = chunkSize;
        _health = health;
    }

    /// <summary>Gets the number of results the job has produced so far.</summary>
    public long Sequence => _sequence;

    /// <summary>Gets or sets how long one write is retried when the reconnect policy sets no limit (a target may lower it, as JetStream's duplicate window does).</summary>
    public TimeSpan RetryLimit { get; set; } = ConnectorHealth.DefaultSinkGiveUpAfter;

    /// <summary>Reads the committed sequence out of a checkpoint state (0 for a fresh job).</summary>
    /// <exception cref="ArgumentException">The state was not written by this kind of sink.</exception>
    public long ReadCommitted(byte[]? committed)
    {
        if (committed is null)
        {
            return 0;
        }

        if (committed.Length != 9 || committed[0] != _stateFormat)
        {
            throw new ArgumentException($"The committed state ({committed.Length} bytes) was not written by {_sinkKind}, so it cannot restore {_name}.", nameof(committed));
        }

        return BinaryPrimitives.ReadInt64LittleEndian(committed.AsSpan(1));
    }

    /// <summary>Opens <paramref name="target"/> at <paramref name="committed"/>: retries transient failures, then skips what the target already holds.</summary>
    public async ValueTask OpenAsync(IExactlyOnceTarget target, long committed, CancellationToken cancellationToken)
    {
        _target = target;
        _pending.Clear();
        while (true)
        {
            try
            {
                long last = await target.OpenAsync(cancellationToken).ConfigureAwait(false);
                if (last < committed)
                {
                    throw target.LostCommittedOutput(last, committed);
                }

                _existing = last;
                _sequence = committed;
                _health.Connected(target.Position(last));
                return;
            }
            catch (Exception ex) when (target.IsTransient(ex) && !cancellationToken.IsCancellationRequested)
            {
                await _health.FailedAsync(ex, "open", cancellationToken, ConnectorHealth.DefaultSinkGiveUpAfter).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Numbers the results, skips the ones the target held at open, and writes the rest (a chunk at a time, and what is left at the end).</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<T> results, CancellationToken cancellationToken)
    {
        if (_target is null)
        {
            throw new InvalidOperationException($"{_name} is not open; call OpenAsync first.");
        }

        for (int i = 0; i < results.Length; i++)
        {
            _sequence++;
            if (_sequence <= _existing)
            {
                // Written by the run before the restore; the same query over the same input gives the same result here.
                continue;
            }

            _pending.Add(_sequence, results.Span[i], _serializer);
            if (_pending.Count >= _chunkSize)
            {
                await FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        // Each batch of results goes out when it is written, so a quiet live query's results are not held back.
        await FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes what waits and returns the checkpoint state: the format byte and the sequence of the last result produced.</summary>
    public async ValueTask<byte[]> PrepareCommitAsync(CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        var state = new byte[9];
        state[0] = _stateFormat;
        BinaryPrimitives.WriteInt64LittleEndian(state.AsSpan(1), _sequence);
        return state;
    }

    /// <summary>Writes what waits; transient failures are retried (the target skips what it already holds) until the retry limit.</summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_pending.Count == 0)
        {
            return;
        }

        var target = _target ?? throw new InvalidOperationException($"{_name} is not open; call OpenAsync first.");
        long last = _pending.LastSequence;
        bool retry = false;
        while (true)
        {
            try
            {
                await target.WriteAsync(_pending, retry, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (Exception ex) when (target.IsTransient(ex) && !cancellationToken.IsCancellationRequested)
            {
                // Retries stop after the reconnect policy's GiveUpAfter, or after RetryLimit when the policy has none.
                retry = true;
                await _health.FailedAsync(ex, target.Position(_pending.Count > 0 ? _pending.FirstSequence : last), cancellationToken, RetryLimit).ConfigureAwait(false);
            }
        }

        _health.Connected(target.Position(last));
        _pending.Clear();
    }

    /// <summary>Forgets the target (the sink closes its connection) and reports the sink closed at its last sequence.</summary>
    public void Close()
    {
        if (_target is { } target)
        {
            _health.Closed(target.Position(_sequence));
            _target = null;
        }
    }
}
