using LinqStream.Runtime;
using LinqStream.Runtime.State;
using LinqStream.Temporal;
using Layout = LinqStream.Physical.Windows.SpilledWindowKeys;

namespace LinqStream.Physical.Windows;

/// <summary>The close of hopping windows built from panes: each window merged from its panes' groups on the heap and in the store.</summary>
#pragma warning disable CA1001 // As on the main part: the store is disposed by the run's IKeyedStateStoreFactory.
internal sealed partial class SpilledFixedWindowAggregateOperator<T, TKey, TResult>
{
    private readonly Dictionary<TKey, int> _merge = [];
    private readonly List<PaneCursor> _paneCursors = [];
    private byte[] _nextStored = new byte[64]; // the smallest stored key of the open cursors, from its hash on
    private byte[] _heapEncoding = [];
    private int _heapEncoded = -1; // the index in _keyOrder whose encoding _heapEncoding holds
    private long _nextWindowStart = Ticks.MinusInfinity;

    /// <summary>Gets how many keys a close merged from groups on the heap in one pane and in the store in another (tests: the pane
    /// by pane merge was exercised).</summary>
    internal long KeysMergedWithStore { get; private set; }

    /// <summary>Emits every window that ends at or before the watermark, each merged from its panes, and frees the panes no window needs
    /// any more (their spilled groups were deleted as the window read them), as the heap operator's <c>ClosePanes</c> does.</summary>
    private void ClosePanes(long watermark)
    {
        EventBatch<TResult>? output = null;
        long size = Window.Size, hop = Window.Hop;
        bool committed = false;
        while (_windows.Count > 0)
        {
            // The next window with at least one event: it starts no earlier than (first pane - size + hop).
            long start = Math.Max(_nextWindowStart, Ticks.SaturatingAdd(_windows[0].Start, hop - size));
            long end = Ticks.SaturatingAdd(start, size);
            if (end > watermark)
            {
                break;
            }

            long next = Ticks.SaturatingAdd(start, hop);
            int panes = 0;
            bool spilled = false;
            while (panes < _windows.Count && _windows[panes].Start < end)
            {
                spilled |= _windows[panes].Spilled > 0;
                panes++;
            }

            if (spilled && !committed)
            {
                Store.Commit(); // the scans read committed state
                committed = true;
            }

            EmitMerged(ref output, start, end, panes, next, spilled);
            _nextWindowStart = next;
            while (_windows.Count > 0 && _windows[0].Start < next)
            {
                var pane = _windows[0];
                _windows.RemoveAt(0);
                FreePane(pane);
            }
        }

        if (committed)
        {
            Store.Commit(); // the deletes of the freed panes' spilled groups
        }

        if (output is not null)
        {
            Downstream.OnBatch(output);
        }
    }

    /// <summary>
    /// Emits the window [<paramref name="start"/>, <paramref name="end"/>) merged from the first <paramref name="panes"/> open panes:
    /// the null key's group, then the keyed ones in stable key order. The heap's groups are merged per key in pane order; when a pane
    /// has spilled groups, their ranges are merged in (<see cref="MergeWithStore"/>).
    /// </summary>
    private void EmitMerged(ref EventBatch<TResult>? output, long start, long end, int panes, long next, bool spilled)
    {
        int nullSlot = -1;
        for (int p = 0; p < panes; p++)
        {
            var pane = _windows[p];
            if (pane.Null >= 0)
            {
                MergeInto(ref nullSlot, pane.Null);
            }

            MergeGroups(_merge, pane.Slots);
        }

        if (nullSlot >= 0)
        {
            Emit(ref output, default!, start, end, nullSlot, start, end);
        }

        var order = _keyOrder;
        order.Clear();
        foreach (var (key, slot) in _merge)
        {
            order.Add(key, slot);
        }

        _merge.Clear();
        order.Sort();
        int heap = 0;
        if (spilled)
        {
            heap = MergeWithStore(ref output, start, end, panes, next);
        }

        for (; heap < order.Count; heap++)
        {
            Emit(ref output, order.KeyAt(heap), start, end, order.SlotAt(heap), start, end);
        }

        order.Clear();
        _heapEncoded = -1;
    }

    /// <summary>
    /// Merges the window's spilled groups into the sorted heap groups (<see cref="_keyOrder"/>), key group by key group in hash order:
    /// one cursor per pane with spilled groups in the key group, the smallest stored key next. A key with spilled groups is merged
    /// again from its panes one by one, oldest first (its heap-only merge is dropped), so the merge order is the heap operator's.
    /// A spilled group of a pane that this close frees (starting before <paramref name="next"/>) is deleted as it is read.
    /// </summary>
    /// <returns>The index of the first heap group not emitted yet.</returns>
    private int MergeWithStore(ref EventBatch<TResult>? output, long start, long end, int panes, long next)
    {
        var order = _keyOrder;
        int heap = 0;
        var cursors = _paneCursors;
        for (int g = NextSpilledGroup(panes, 0); g >= 0; g = NextSpilledGroup(panes, g + 1))
        {
            try
            {
                for (int p = 0; p < panes; p++)
                {
                    var pane = _windows[p];
                    if (pane.HasSpilled(g))
                    {
                        var cursor = Store.Scan(Layout.WindowFrom(g, pane.Start), Layout.WindowLimit(g, pane.Start));
                        cursors.Add(new PaneCursor(p, cursor, pane.Start < next));
                    }
                }

                for (int length; (length = NextStored(cursors)) >= 0;)
                {
                    var stored = _nextStored.AsSpan(0, length);
                    int compared = 1;
                    while (heap < order.Count && (compared = CompareHeap(heap, stored)) < 0)
                    {
                        Emit(ref output, order.KeyAt(heap), start, end, order.SlotAt(heap), start, end);
                        heap++;
                    }

                    bool onHeap = compared == 0;
                    TKey key = default!;
                    if (onHeap)
                    {
                        KeysMergedWithStore++;
                        key = order.KeyAt(heap);
                        Slots.Release(order.SlotAt(heap)); // merged from the heap's panes only: merged again below, in pane order
                        heap++;
                    }

                    int target = -1;
                    int c = 0;
                    for (int p = 0; p < panes; p++)
                    {
                        while (c < cursors.Count && cursors[c].Pane < p)
                        {
                            c++;
                        }

                        if (onHeap && _windows[p].Slots.TryGetValue(key, out int hot))
                        {
                            MergeInto(ref target, hot);
                        }
                        else if (c < cursors.Count && cursors[c].Pane == p && cursors[c].Cursor.Valid && cursors[c].Cursor.Key[Layout.HashOffset..].SequenceEqual(stored))
                        {
                            var cursor = cursors[c].Cursor;
                            int slot = ReadSpilled(cursor.Value, out var storedKey);
                            if (!onHeap && target < 0)
                            {
                                key = storedKey;
                            }

                            MergeInto(ref target, slot);
                            Slots.Release(slot);
                            if (cursors[c].Frees)
                            {
                                Store.Delete(cursor.Key);
                                _windows[p].Spilled--;
                                _spilled--;
                            }

                            cursor.Next();
                        }
                    }

                    Emit(ref output, key, start, end, target, start, end);
                }
            }
            finally
            {
                foreach (var open in cursors)
                {
                    open.Cursor.Dispose();
                }

                cursors.Clear();
            }
        }

        for (int p = 0; p < panes && _windows[p].Start < next; p++)
        {
            if (_windows[p].Spilled != 0)
            {
                throw new InvalidDataException(
                    $"The state store at '{Store.Location}' lacks {_windows[p].Spilled} spilled group(s) of the pane starting at {_windows[p].Start} ticks: the store is damaged.");
            }
        }

        return heap;
    }

    /// <summary>The first key group at or after <paramref name="from"/> in which one of the first <paramref name="panes"/> panes has spilled groups, or -1.</summary>
    private int NextSpilledGroup(int panes, int from)
    {
        int first = -1;
        for (int p = 0; p < panes; p++)
        {
            int g = _windows[p].NextSpilledGroup(from);
            if (g >= 0 && (first < 0 || g < first))
            {
                first = g;
            }
        }

        return first;
    }

    /// <summary>Copies the smallest current key of the open cursors (from its hash on: hash, then encoding) into <see cref="_nextStored"/>.</summary>
    /// <returns>Its length, or -1 when every cursor has ended.</returns>
    private int NextStored(List<PaneCursor> cursors)
    {
        int best = -1;
        for (int c = 0; c < cursors.Count; c++)
        {
            var cursor = cursors[c].Cursor;
            if (cursor.Valid && (best < 0 || cursor.Key[Layout.HashOffset..].SequenceCompareTo(cursors[best].Cursor.Key[Layout.HashOffset..]) < 0))
            {
                best = c;
            }
        }

        if (best < 0)
        {
            return -1;
        }

        var key = cursors[best].Cursor.Key[Layout.HashOffset..];
        if (_nextStored.Length < key.Length)
        {
            _nextStored = new byte[Math.Max(key.Length, _nextStored.Length * 2)];
        }

        key.CopyTo(_nextStored);
        return key.Length;
    }

    /// <summary>Compares the heap key at <paramref name="index"/> of <see cref="_keyOrder"/> with a stored one (hash, then encoding).</summary>
    private int CompareHeap(int index, ReadOnlySpan<byte> stored)
    {
        ulong heapHash = Parallel.StableKeyHash<TKey>.Hash(_keyOrder.KeyAt(index));
        ulong storedHash = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(stored);
        if (heapHash != storedHash)
        {
            return heapHash < storedHash ? -1 : 1;
        }

        // The same key in another pane (or a 64-bit collision): its encoding, once per heap key.
        if (_heapEncoded != index)
        {
            _heapEncoding = Parallel.StableKeyHash<TKey>.Encode(_keyOrder.KeyAt(index));
            _heapEncoded = index;
        }

        return _heapEncoding.AsSpan().SequenceCompareTo(stored[8..]);
    }

    /// <summary>Frees a pane that no open window holds: its heap slots (kept until written when a checkpoint's cut froze them).</summary>
    private void FreePane(OpenWindow pane)
    {
        if (pane.Null >= 0)
        {
            ReleaseSlot(pane.Null);
        }

        foreach (var slot in pane.Slots.Values)
        {
            ReleaseSlot(slot);
        }

        pane.Reset();
        _freeWindows.Push(pane);
    }

    /// <summary>The pane's next window to close, after a restore: the output watermark (the start of the first window that can still
    /// produce a result) is the heap operator's next window start or later, and no window between the two has a pane.</summary>
    private void RestoreNextWindowStart() => _nextWindowStart = LastWatermark == Ticks.Infinity ? Ticks.MinusInfinity : LastWatermark;

    /// <summary>An open scan of one pane's spilled groups in one key group; <see cref="Frees"/>: the pane is freed by this close.</summary>
    private readonly record struct PaneCursor(int Pane, IKeyedStateCursor Cursor, bool Frees);
}
#pragma warning restore CA1001
