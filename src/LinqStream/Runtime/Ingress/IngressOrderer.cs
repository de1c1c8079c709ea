using LinqStream.Temporal;

namespace LinqStream.Runtime.Ingress;

/// <summary>Applies an <see cref="IngressPolicy"/> to events in arrival order and sends them on in start order, with watermarks.</summary>
/// <remarks>Shared by every kind of source: the source fills payload, start and end columns; this class decides what goes on.</remarks>
internal sealed class IngressOrderer<T>
{
    private readonly LateEventCounts _late;
    private readonly IStreamObserver<T> _downstream;
    private readonly BatchPool<T> _pool;
    private readonly IngressPolicy _policy;
    private readonly string _sourceName;
    private readonly ReorderRuns<T>? _reorder;
    private long _maxSeen = Ticks.MinusInfinity;
    private long _position;
    private long _sequence;

    public IngressOrderer(IStreamObserver<T> downstream, QueryContext context, IngressPolicy policy, string sourceName)
    {
        _downstream = downstream;
        _pool = context.Pool<T>();
        _late = context.LateEvents;
        _policy = policy;
        _sourceName = sourceName;
        if (policy.Kind == IngressPolicyKind.Reorder)
        {
            _reorder = new();
        }
    }

    private long _lateEvents;

    /// <summary>Gets the last watermark sent downstream.</summary>
    public long Watermark { get; private set; } = Ticks.MinusInfinity;

    public bool Faulted { get; private set; }

    /// <summary>Gets the latest event time pushed so far (progress reports).</summary>
    public long MaxSeen => _maxSeen;

    /// <summary>Gets the number of events that came later than the policy allows (dropped, adjusted or failed); read by metrics from another thread.</summary>
    public long LateEvents => Volatile.Read(ref _lateEvents);

    /// <summary>Copies the orderer's state out as plain data: its position, watermark and the events held back for reordering.</summary>
    public IngressState<T> CaptureState()
    {
        var held = new List<HeldEvent<T>>();
        if (_reorder is not null)
        {
            foreach (var (start, end, sequence, payload) in _reorder.Items())
            {
                held.Add(new HeldEvent<T>(start, end, sequence, payload));
            }

            held.Sort(static (a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : a.Sequence.CompareTo(b.Sequence));
        }

        return new IngressState<T>(_position, _maxSeen, Watermark, _sequence, held);
    }

    /// <summary>Writes what a source's checkpoint holds of its ingress: <paramref name="read"/> (the events the source has pushed), then <see cref="CaptureState"/>.</summary>
    public void WriteState(BinaryWriter writer, long read)
    {
        writer.Write(read);
        Checkpoints.StateCodec.Write(writer, CaptureState(), typeof(IngressState<T>));
    }

    /// <summary>Loads what <see cref="WriteState"/> wrote into this fresh orderer; returns the events the source had pushed.</summary>
    public long ReadState(BinaryReader reader)
    {
        long read = reader.ReadInt64();
        RestoreState((IngressState<T>)Checkpoints.StateCodec.Read(reader, typeof(IngressState<T>))!);
        return read;
    }

    /// <summary>Loads state captured by <see cref="CaptureState"/> into this fresh orderer.</summary>
    public void RestoreState(IngressState<T> state)
    {
        _position = state.Position;
        _maxSeen = state.MaxSeen;
        Watermark = state.Watermark;
        _sequence = state.Sequence;
        foreach (var e in state.Held)
        {
            _reorder?.Add(e.Start, e.End, e.Sequence, e.Payload);
        }

        _reorder?.Seal();
    }

    /// <summary>Takes a batch of events in arrival order (ownership included).</summary>
    public void Push(EventBatch<T> batch)
    {
        if (Faulted)
        {
            _pool.Return(batch);
            return;
        }

        _policy.Statistics?.AddEvents(batch.Count);
        if (_reorder is null)
        {
            PushInOrder(batch);
        }
        else
        {
            PushReordered(batch);
        }
    }

    /// <summary>Sends everything still held back, then the final watermark and completion.</summary>
    public void Complete()
    {
        if (Faulted)
        {
            return;
        }

        if (_reorder is not null)
        {
            Release(Ticks.Infinity);
        }

        Watermark = Ticks.Infinity;
        _downstream.OnWatermark(Ticks.Infinity);
        _downstream.OnCompleted();
        _reorder?.Release(); // everything held went out above: the runs' arrays back to the shared array pool
    }

    /// <summary>Sends a failure of the source downstream.</summary>
    public void Fail(Exception error)
    {
        if (!Faulted)
        {
            Faulted = true;
            _downstream.OnError(error);
        }
    }

    /// <summary>Advances the watermark without events (a live source that is idle).</summary>
    public void AdvanceTo(long watermark)
    {
        if (Faulted || watermark <= Watermark)
        {
            return;
        }

        if (_reorder is not null)
        {
            Release(watermark);
        }
        else
        {
            _maxSeen = Math.Max(_maxSeen, watermark);
        }

        Watermark = watermark;
        _downstream.OnWatermark(watermark);
    }

    private void PushInOrder(EventBatch<T> batch)
    {
        var start = batch.Start;
        var end = batch.End;
        var payload = batch.Payload;
        int count = batch.Count, kept = 0;
        long max = _maxSeen;
        if (TickColumns.IsInOrderFrom(start.AsSpan(0, count), max))
        {
            // The common case, a source in time order: nothing is late and nothing moves, so the per-event loop has nothing to do.
            kept = count;
            if (count > 0)
            {
                max = start[count - 1];
            }
        }

        for (int i = kept; i < count; i++)
        {
            long t = start[i];
            if (t < max)
            {
                if (!OnLate(_policy.Kind, i, t, max, ref start[i], ref end[i]))
                {
                    if (Faulted)
                    {
                        _pool.Return(batch);
                        return;
                    }

                    continue;
                }
            }
            else
            {
                max = t;
            }

            if (kept != i)
            {
                start[kept] = start[i];
                end[kept] = end[i];
                payload[kept] = payload[i];
            }

            kept++;
        }

        _position += count;
        _maxSeen = max;
        if (kept != count && System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            Array.Clear(payload, kept, count - kept);
        }

        batch.Count = kept;
        if (kept > 0)
        {
            _downstream.OnBatch(batch);
        }
        else
        {
            _pool.Return(batch);
        }

        SendWatermark();
    }

    /// <summary>
    /// The fused ingress's order check (<see cref="IFusedIngress{T}"/>): when the starts of a slice the downstream operator read
    /// itself never decrease and none is before the latest start seen, counts the events as this orderer's and returns true (the
    /// caller sends the batch and then calls <see cref="SendWatermark"/>); otherwise changes nothing and returns false, and the
    /// slice comes again through <see cref="Push"/>. Only without a reorder buffer: a reordering ingress never fuses.
    /// </summary>
    public bool TryAcceptInOrder(ReadOnlySpan<long> start)
    {
        if (Faulted || _reorder is not null || !TickColumns.IsInOrderFrom(start, _maxSeen))
        {
            return false;
        }

        _policy.Statistics?.AddEvents(start.Length);
        _position += start.Length;
        if (!start.IsEmpty)
        {
            _maxSeen = start[^1];
        }

        return true;
    }

    /// <summary>Sends the watermark the latest start seen allows, when it moved (after an in-order batch).</summary>
    public void SendWatermark()
    {
        long max = Ticks.BeforeEnd(_maxSeen);
        if (max > Watermark)
        {
            Watermark = max;
            _downstream.OnWatermark(max);
        }
    }

    private void PushReordered(EventBatch<T> batch)
    {
        var reorder = _reorder!;
        int count = batch.Count;
        long max = _maxSeen;
        // Lateness is judged per event against the watermark as it stands after every earlier event, so the answer does
        // not depend on how the input was cut into batches.
        long watermark = Watermark;
        for (int i = 0; i < count; i++)
        {
            long t = batch.Start[i];
            long e = batch.End[i];
            if (t < watermark)
            {
                if (!OnLate(_policy.LateAction, i, t, watermark, ref t, ref e))
                {
                    if (Faulted)
                    {
                        reorder.Seal();
                        _pool.Return(batch);
                        return;
                    }

                    continue;
                }
            }

            if (t > max)
            {
                max = t;
                watermark = Math.Max(watermark, Ticks.SaturatingAdd(max, -_policy.MaxDelayTicks));
            }

            reorder.Add(t, e, _sequence++, batch.Payload[i]);
        }

        reorder.Seal();

        _position += count;
        _maxSeen = max;
        _pool.Return(batch);
        watermark = Ticks.BeforeEnd(watermark);
        if (watermark > Watermark)
        {
            Release(watermark);
            Watermark = watermark;
            _downstream.OnWatermark(watermark);
        }
    }

    /// <summary>Sends every held event with a start before <paramref name="watermark"/>, in (start, arrival) order.</summary>
    private void Release(long watermark)
    {
        var reorder = _reorder!;
        EventBatch<T>? output = null;
        while (reorder.TryTakeBefore(watermark, out long start, out long end, out var payload))
        {
            output ??= _pool.Rent();
            output.Add(start, end, payload);
            if (output.IsFull)
            {
                _downstream.OnBatch(output);
                output = null;
            }
        }

        if (output is not null)
        {
            _downstream.OnBatch(output);
        }
    }

    /// <returns><see langword="true"/> when the event goes on (adjusted); <see langword="false"/> when dropped or failed.</returns>
    private bool OnLate(IngressPolicyKind action, int index, long time, long watermark, ref long start, ref long end)
    {
        Volatile.Write(ref _lateEvents, _lateEvents + 1);
        _policy.Statistics?.AddLate(action);
        _late.Add(action);
        switch (action)
        {
            case IngressPolicyKind.Drop:
                return false;
            case IngressPolicyKind.Adjust:
                long duration = end - start;
                start = watermark;
                end = Ticks.SaturatingAdd(watermark, duration);
                return true;
            default:
                long position = _position + index;
                var lateness = TimeSpan.FromTicks(watermark - time);
                Fail(new LateEventException(Internal.Strings.LateEventThrow(_sourceName, position, lateness, time, watermark))
                {
                    SourceName = _sourceName,
                    Position = position,
                    Lateness = lateness,
                });
                return false;
        }
    }
}

/// <summary>An ingress's state as plain data.</summary>
/// <param name="Position">How many events the source has delivered.</param>
/// <param name="MaxSeen">The latest event time seen.</param>
/// <param name="Watermark">The last watermark sent.</param>
/// <param name="Sequence">The arrival counter that keeps ties in arrival order.</param>
/// <param name="Held">Events held back for reordering, in release order.</param>
internal sealed record IngressState<T>(long Position, long MaxSeen, long Watermark, long Sequence, IReadOnlyList<HeldEvent<T>> Held);

/// <summary>One event held back by the reorder buffer.</summary>
/// <param name="Start">Its start.</param>
/// <param name="End">Its end.</param>
/// <param name="Sequence">Its arrival number.</param>
/// <param name="Payload">Its payload.</param>
internal sealed record HeldEvent<T>(long Start, long End, long Sequence, T Payload);
