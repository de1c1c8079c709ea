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
/// <para>
/// Chained (docs/parallelism.md, "Chained tasks in the hash plan"): the source task's own task runs on its thread, so the events of
/// the own task's key groups are collected in a batch of this exchange's and handed to the task by a call (<see cref="IChainedTask{T}"/>)
/// instead of through its channel; a send into another task's full channel runs the own task's side meanwhile; and watermarks,
/// barriers, completion and errors go to the other tasks first, to the own task last (as the chained forward exchange does).
/// </para>
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
    private readonly IChainedTask<T>? _chained;
    private readonly int _ownIndex;
    private readonly EventBatch<T>? _ownOpen; // chained: the own task's events, handed over when full and before any other message
    private TKey[] _keys = [];
    private ulong[] _hashes = [];
    private long _watermark = Ticks.MinusInfinity;
    private bool _done;

    /// <param name="channels">A channel to every task.</param>
    /// <param name="keyKernel">The key of each event, per batch.</param>
    /// <param name="keyGroups">The number of key groups.</param>
    /// <param name="context">The source task's context.</param>
    /// <param name="chained">The own task when it runs on this source task's thread (its channel is then not used), or null.</param>
    /// <param name="own">The own task's index (with <paramref name="chained"/>).</param>
    public HashExchange(SpscChannel<T>[] channels, Action<T[], ulong[]?, TKey[], int> keyKernel, int keyGroups, QueryContext context, IChainedTask<T>? chained = null, int own = -1)
    {
        _channels = channels;
        _open = new EventBatch<T>?[channels.Length];
        _keyKernel = keyKernel;
        _keyGroups = keyGroups;
        _owners = KeyGroups.Owners(keyGroups, channels.Length);
        _pool = context.Pool<T>();
        _context = context;
        _sentPerTask = new long[channels.Length];
        if (chained is not null)
        {
            _chained = chained;
            _ownIndex = own;
            _ownOpen = new EventBatch<T>(_pool.BatchSize); // its own, not the pool's (the pool stays whole): one per run
        }
        else
        {
            _ownIndex = -1;
        }
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
            if (task == _ownIndex)
            {
                // Chained: the own task's events stay on this thread.
                var own = _ownOpen!;
                own.Add(start[i], end[i], payload[i]);
                _sentPerTask[task]++;
                if (own.IsFull)
                {
                    HandOverOwn();
                }

                continue;
            }

            var target = _open[task] ?? Begin(task);
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

    /// <summary>Takes a free slot of task <paramref name="task"/>'s channel to fill (chained: running the own task while it is full); null when closed.</summary>
    private EventBatch<T>? Begin(int task)
    {
        if (!HasSpace(_channels[task]))
        {
            return null;
        }

        return _open[task] = _channels[task].BeginBatch();
    }

    /// <summary>Chained: waits for room in another task's channel running the own task meanwhile (see <see cref="IChainedTask{T}.WaitForSpace"/>); unchained: true (the send waits in the channel).</summary>
    private bool HasSpace(SpscChannel<T> channel) => _chained is null || _chained.WaitForSpace(channel);

    /// <summary>Chained: runs the own task on the events collected for it (their columns move into a batch of the task's; this one is reused).</summary>
    private void HandOverOwn()
    {
        var own = _ownOpen!;
        if (own.Count > 0)
        {
            _chained!.Batch(own);
            own.Reset(); // empty already when the columns were swapped
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
        for (int t = 0; t < _channels.Length; t++)
        {
            if (t != _ownIndex && HasSpace(_channels[t]))
            {
                _channels[t].SendWatermark(watermark);
            }
        }

        // Chained: the own task last, so that no task has a result the other tasks' watermarks do not cover yet (the merge waits for them).
        _chained?.Watermark(watermark);
    }

    public void OnCompleted()
    {
        if (_done)
        {
            return;
        }

        _done = true;
        Flush();
        for (int t = 0; t < _channels.Length; t++)
        {
            if (t != _ownIndex && HasSpace(_channels[t]))
            {
                _channels[t].SendCompleted();
            }
        }

        _chained?.Completed();
    }

    public void OnError(Exception error)
    {
        if (_done)
        {
            return;
        }

        _done = true;
        Flush();
        for (int t = 0; t < _channels.Length; t++)
        {
            if (t != _ownIndex && HasSpace(_channels[t]))
            {
                _channels[t].SendError(error);
            }
        }

        _chained?.Error(error);
    }

    /// <summary>Sends checkpoint barrier <paramref name="id"/> to every task, after the data before it; false when the exchange has ended.</summary>
    public bool SendBarrier(long id)
    {
        if (_done)
        {
            return false;
        }

        Flush();
        for (int t = 0; t < _channels.Length; t++)
        {
            if (t != _ownIndex && (!HasSpace(_channels[t]) || !_channels[t].SendBarrier(id)))
            {
                return false;
            }
        }

        _chained?.Barrier(id);
        return true;
    }

    /// <summary>Publishes every open batch (chained: and runs the own task on its events), before a message that must come after them.</summary>
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

        if (_chained is not null)
        {
            HandOverOwn();
        }
    }
}
