using System.Numerics;
using LinqStream.Runtime.Tables;

namespace LinqStream.Physical.Windows.KeyedFold;

/// <summary>
/// The open groups of a <c>KeyedFoldOperator</c> by close time, smallest first: a radix heap (a monotone priority queue), since no
/// group opens with a close before the last one taken out (issue #19).
/// </summary>
/// <remarks>
/// <para>
/// Bucket <c>b</c> holds the entries whose close differs from <see cref="_last"/> (the last close taken out) first in bit
/// <c>b - 1</c> (bucket 0: equal to it). Adding is an append; taking the smallest, when bucket 0 is empty, finds the first
/// non-empty bucket, makes its smallest close the new <see cref="_last"/> and spreads that bucket over the lower ones. An entry
/// only moves down, so it moves at most once per bit of the distance between its close and the closes taken out before it (for
/// q4/q9, 20 s of ticks: under 28 moves, most far fewer), each a sequential copy; a binary or four-ary heap of 130,000 open
/// auctions instead sifts through levels spread over megabytes on every removal.
/// </para>
/// <para>
/// A close before <see cref="_last"/> cannot come from the fold's input (a value tagged <c>c</c> starts at or before <c>c</c>, and
/// closes are taken out only below the watermark); should one come anyway, every entry is spread again from it, so the order
/// stays right.
/// </para>
/// <para>
/// The buckets' arrays come from the shared array pool and go back when they grow and at <see cref="Release"/>, at the end of a
/// run (issue #19); only the first <c>_count[b]</c> entries of a bucket are read.
/// </para>
/// </remarks>
internal sealed class CloseQueue
{
    private readonly long[][] _close = new long[65][];
    private readonly int[][] _slot = new int[65][];
    private readonly int[] _count = new int[65];
    private long _last = long.MinValue;

    public CloseQueue()
    {
        for (int b = 0; b < 65; b++)
        {
            _close[b] = [];
            _slot[b] = [];
        }
    }

    /// <summary>Gets the number of entries.</summary>
    public int Count { get; private set; }

    /// <summary>Adds group <paramref name="slot"/> closing at <paramref name="close"/>.</summary>
    public void Enqueue(int slot, long close)
    {
        if (close < _last)
        {
            Rebase(close);
        }

        Append(Bucket(close), close, slot);
        Count++;
    }

    /// <summary>Gets the smallest close and one group with it, without removing it; false when empty.</summary>
    public bool TryPeek(out int slot, out long close)
    {
        if (Count == 0)
        {
            slot = -1;
            close = 0;
            return false;
        }

        if (_count[0] == 0)
        {
            Refill();
        }

        slot = _slot[0][_count[0] - 1];
        close = _last;
        return true;
    }

    /// <summary>Removes the entry <see cref="TryPeek"/> gave.</summary>
    public void Dequeue()
    {
        if (Count == 0)
        {
            throw new InvalidOperationException("The queue is empty.");
        }

        if (_count[0] == 0)
        {
            Refill();
        }

        _count[0]--;
        Count--;
    }

    public void Clear()
    {
        Array.Clear(_count);
        Count = 0;
        _last = long.MinValue;
    }

    /// <summary>Empties the queue and gives every bucket's arrays back to the pool (the end of a run, or a failure); it may be used again.</summary>
    public void Release()
    {
        Clear();
        for (int b = 0; b < 65; b++)
        {
            PooledArrays.Release(ref _close[b]);
            PooledArrays.Release(ref _slot[b]);
        }
    }

    /// <summary>The bucket of <paramref name="close"/> (at least <see cref="_last"/>): 0 when equal, else 1 + its highest bit that differs.</summary>
    private int Bucket(long close) => close == _last ? 0 : 64 - BitOperations.LeadingZeroCount((ulong)(close ^ _last));

    private void Append(int bucket, long close, int slot)
    {
        int n = _count[bucket];
        if (n == _close[bucket].Length)
        {
            int size = Math.Max(PooledArrays.MinimumLength, n * 2);
            PooledArrays.Resize(ref _close[bucket], size, n);
            PooledArrays.Resize(ref _slot[bucket], size, n);
        }

        _close[bucket][n] = close;
        _slot[bucket][n] = slot;
        _count[bucket] = n + 1;
    }

    /// <summary>Bucket 0 is empty and the queue is not: the first non-empty bucket's smallest close becomes the last, and the bucket is spread.</summary>
    private void Refill()
    {
        int b = 1;
        while (_count[b] == 0)
        {
            b++;
        }

        var closes = _close[b];
        var slots = _slot[b];
        int n = _count[b];
        long min = closes[0];
        for (int i = 1; i < n; i++)
        {
            min = Math.Min(min, closes[i]);
        }

        _last = min;
        _count[b] = 0;
        for (int i = 0; i < n; i++)
        {
            Append(Bucket(closes[i]), closes[i], slots[i]); // every entry of bucket b goes to a lower one
        }
    }

    /// <summary>Spreads every entry again from <paramref name="close"/>, below the last close (never from the fold's own input).</summary>
    private void Rebase(long close)
    {
        var entries = new List<(long Close, int Slot)>(Count);
        for (int b = 0; b < 65; b++)
        {
            for (int i = 0; i < _count[b]; i++)
            {
                entries.Add((_close[b][i], _slot[b][i]));
            }
        }

        Array.Clear(_count);
        _last = close;
        foreach (var (c, s) in entries)
        {
            Append(Bucket(c), c, s);
        }
    }
}
