using LinqStream.Runtime;
using LinqStream.Temporal;

namespace LinqStream.Parallel;

/// <summary>
/// The sending end of a hash exchange: routes each event to the task that owns its key's key group, filling that task's
/// channel batch in place; watermarks, completion and errors go to every task, after the data before them.
/// </summary>
/// <remarks>
/// Per batch: one key-kernel call, one hash per event, one table lookup per event, and one copy of the event into the
/// receiving task's batch. Each task receives a subsequence of this stream, so it stays ordered by start.
/// An event whose key selector throws is sent to key group 0, where the window operator runs the same selector again and
/// applies <see cref="QueryOptions.OnError"/> to it exactly as at parallelism 1.
/// </remarks>
internal sealed class HashExchange<T, TKey> : ISourceExchange<T>
{
    private readonly SpscChannel<T>[] _channels;
    private readonly EventBatch<T>?[] _open;
    private readonly Action<T[], ulong[]?, TKey[], int> _keyKernel;
    private readonly int[] _owners;
    private readonly int _keyGroups;
    private readonly BatchPool<T> _pool;
    private readonly QueryContext _context;
    private readonly long[] _sentPerTask;
    private TKey[] _keys = [];
    private ulong[] _hashes = [];
    private long _watermark = Ticks.MinusInfinity;
    private bool _done;

    public HashExchange(SpscChannel<T>[] channels, Action<T[], ulong[]?, TKey[], int> keyKernel, int keyGroups, QueryContext context)
    {
        _channels = channels;
        _open = new EventBatch<T>?[channels.Length];
        _keyKernel = keyKernel;
        _keyGroups = keyGroups;
        _owners = KeyGroups.Owners(keyGroups, channels.Length);
        _pool = context.Pool<T>();
        _context = context;
        _sentPerTask = new long[channels.Length];
    }

    /// <summary>Gets the number of events sent to each task so far (skew diagnostics and tests).</summary>
    public IReadOnlyList<long> SentPerTask => _sentPerTask;

    public void OnBatch(EventBatch<T> batch)
    {
        try
        {
            if (!_done)
            {
                Route(batch);
            }
        }
        finally
        {
            _pool.Return(batch);
        }
    }

    private void Route(EventBatch<T> batch)
    {
        int count = batch.Count;
        if (_keys.Length < count)
        {
            _keys = new TKey[batch.Capacity];
            _hashes = new ulong[batch.Capacity];
        }

        ComputeHashes(batch);
        var owners = _owners;
        var hashes = _hashes;
        var start = batch.Start;
        var end = batch.End;
        var payload = batch.Payload;
        var absent = batch.Absent;
        for (int i = 0; i < count; i++)
        {
            if ((absent[i >> 6] & (1UL << i)) != 0)
            {
                continue;
            }

            int task = owners[KeyGroups.Of(hashes[i], _keyGroups)];
            var target = _open[task] ??= _channels[task].BeginBatch();
            if (target is null)
            {
                _done = true; // closed: the query is stopping, so its sources stop reading too
                _context.Stop();
                return;
            }

            target.Add(start[i], end[i], payload[i]);
            _sentPerTask[task]++;

            if (target.IsFull)
            {
                _channels[task].PublishBatch();
                _open[task] = null;
            }
        }
    }

    private void ComputeHashes(EventBatch<T> batch)
    {
        int count = batch.Count;
        try
        {
            _keyKernel(batch.Payload, batch.Absent, _keys, count);
            StableKeyHash<TKey>.HashAll(_keys, batch.Absent, _hashes, count);
        }
        catch (Exception)
        {
            // Find the events whose key throws, one at a time; they go to key group 0 and fail (or are dead-lettered) there.
            var single = new T[1];
            var key = new TKey[1];
            for (int i = 0; i < count; i++)
            {
                single[0] = batch.Payload[i];
                try
                {
                    _keyKernel(single, null, key, 1);
                    _hashes[i] = StableKeyHash<TKey>.Hash(key[0]);
                }
                catch (Exception)
                {
                    _hashes[i] = 0;
                }
            }
        }
    }

    public void OnWatermark(long watermark)
    {
        if (_done || watermark <= _watermark)
        {
            return;
        }

        _watermark = watermark;
        Flush();
        foreach (var channel in _channels)
        {
            channel.SendWatermark(watermark);
        }
    }

    public void OnCompleted()
    {
        if (_done)
        {
            return;
        }

        _done = true;
        Flush();
        foreach (var channel in _channels)
        {
            channel.SendCompleted();
        }
    }

    public void OnError(Exception error)
    {
        if (_done)
        {
            return;
        }

        _done = true;
        Flush();
        foreach (var channel in _channels)
        {
            channel.SendError(error);
        }
    }

    /// <summary>Sends checkpoint barrier <paramref name="id"/> to every task, after the data before it; false when the exchange has ended.</summary>
    public bool SendBarrier(long id)
    {
        if (_done)
        {
            return false;
        }

        Flush();
        foreach (var channel in _channels)
        {
            if (!channel.SendBarrier(id))
            {
                return false;
            }
        }

        return true;
    }

    private void Flush()
    {
        for (int task = 0; task < _open.Length; task++)
        {
            if (_open[task] is not null)
            {
                _channels[task].PublishBatch();
                _open[task] = null;
            }
        }
    }
}
