using System.Runtime.CompilerServices;
using LinqStream.Runtime;

namespace LinqStream.Physical.Join;

/// <summary>The batches of one join input that arrived ahead of the other input's watermark, with their keys, in order.</summary>
/// <remarks>
/// Batches are kept as they came (no copy); a read cursor walks the head batch and each batch goes back to the pool as
/// soon as it is consumed. Key columns are computed once per batch by a compiled kernel and pooled here.
/// </remarks>
internal sealed class InputQueue<T, TKey>
{
    private readonly Queue<(EventBatch<T> Batch, TKey[] Keys)> _queue = new();
    private readonly Stack<TKey[]> _freeKeys = new();
    private readonly BatchPool<T> _pool;

    public InputQueue(BatchPool<T> pool) => _pool = pool;

    /// <summary>Gets the batch being read, or null when the queue is empty.</summary>
    public EventBatch<T>? Head { get; private set; }

    public TKey[] HeadKeys { get; private set; } = [];

    /// <summary>Gets or sets the position of the next unread event in <see cref="Head"/>.</summary>
    public int Index { get; set; }

    /// <summary>Gets the start of the next unread event; valid after <see cref="MoveToPresent"/> returned true.</summary>
    public long HeadStart
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Head!.Start[Index];
    }

    /// <summary>The run of the head batch from the cursor up to start <paramref name="bound"/> (inclusive); set <see cref="Index"/> to its <see cref="JoinRun.Stop"/> after it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public JoinRun Run(long bound)
    {
        var batch = Head!;
        return new JoinRun(batch.Start, batch.End, batch.Absent, batch.Count, Index, bound);
    }

    public TKey[] RentKeys(int capacity) =>
        _freeKeys.Count > 0 && _freeKeys.Peek().Length == capacity ? _freeKeys.Pop() : new TKey[capacity];

    public void ReturnKeys(TKey[] keys, int count)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TKey>())
        {
            Array.Clear(keys, 0, count);
        }

        _freeKeys.Push(keys);
    }

    public void Enqueue(EventBatch<T> batch, TKey[] keys)
    {
        if (Head is null)
        {
            Head = batch;
            HeadKeys = keys;
            Index = 0;
        }
        else
        {
            _queue.Enqueue((batch, keys));
        }
    }

    /// <summary>Moves the cursor to the next event not filtered out, releasing consumed batches.</summary>
    /// <returns><see langword="false"/> when no buffered event is left.</returns>
    public bool MoveToPresent()
    {
        while (Head is not null)
        {
            var batch = Head;
            int i = Index, count = batch.Count;
            var absent = batch.Absent;
            while (i < count && (absent[i >> 6] & (1UL << i)) != 0)
            {
                i++;
            }

            Index = i;
            if (i < count)
            {
                return true;
            }

            ReleaseHead();
        }

        return false;
    }

    /// <summary>Lists the buffered events that were not read yet (state capture; not a hot path).</summary>
    public List<StreamEvent<T>> Snapshot()
    {
        var events = new List<StreamEvent<T>>();
        if (Head is not null)
        {
            Append(events, Head, Index);
        }

        foreach (var (batch, _) in _queue)
        {
            Append(events, batch, 0);
        }

        return events;
    }

    /// <summary>Gets the number of batches buffered (the one being read included).</summary>
    public int BufferedBatches => (Head is null ? 0 : 1) + _queue.Count;

    /// <summary>Drops the key arrays and queue room a burst left behind: keeps as many free key arrays as batches are buffered (at least 16).</summary>
    public void TrimExcess()
    {
        int keep = Math.Max(Runtime.BatchPool<T>.KeptWhenIdle, BufferedBatches);
        while (_freeKeys.Count > keep)
        {
            _freeKeys.Pop();
        }

        _freeKeys.TrimExcess();
        _queue.TrimExcess();
    }

    /// <summary>Gets the number of free key arrays kept for reuse.</summary>
    public int FreeKeyArrays => _freeKeys.Count;

    /// <summary>Returns every buffered batch to the pool.</summary>
    public void Clear()
    {
        while (Head is not null)
        {
            ReleaseHead();
        }
    }

    private void ReleaseHead()
    {
        ReturnKeys(HeadKeys, Head!.Count);
        _pool.Return(Head);
        if (_queue.TryDequeue(out var next))
        {
            Head = next.Batch;
            HeadKeys = next.Keys;
        }
        else
        {
            Head = null;
            HeadKeys = [];
        }

        Index = 0;
    }

    private static void Append(List<StreamEvent<T>> events, EventBatch<T> batch, int from)
    {
        for (int i = from; i < batch.Count; i++)
        {
            if (!batch.IsAbsent(i))
            {
                events.Add(new StreamEvent<T>(batch.Start[i], batch.End[i], batch.Payload[i]));
            }
        }
    }
}
