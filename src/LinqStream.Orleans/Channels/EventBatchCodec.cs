using System.Runtime.InteropServices;
using LinqStream.Runtime;

namespace LinqStream.Orleans.Channels;

/// <summary>
/// Encodes an <see cref="EventBatch{T}"/> into a <see cref="ChannelFrame"/> and back: the live events' start column, end column
/// (little-endian 64-bit ticks, each one copy) and payload column (<see cref="IColumnCodec{T}"/>). Events filtered out are not sent.
/// </summary>
/// <remarks>
/// One array per batch, rented from the pool (<see cref="FrameColumns"/>: the sender returns it when the frame is acknowledged, the
/// receiver its own copy once decoded, <see cref="ChannelFrame.Release"/>); nothing per event. <see cref="Decode"/> does not release
/// the frame: its caller does, after the decode (or its failure).
/// </remarks>
internal sealed class EventBatchCodec<T>
{
    private readonly IColumnCodec<T> _payload;
    private long[] _start = [];
    private long[] _end = [];
    private T[] _values = [];

    /// <param name="payload">The payload column's codec.</param>
    public EventBatchCodec(IColumnCodec<T> payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        _payload = payload;
    }

    /// <summary>Encodes the live events of <paramref name="batch"/> (the batch is not changed).</summary>
    public ChannelFrame Encode(EventBatch<T> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        long[] start = batch.Start, end = batch.End;
        T[] values = batch.Payload;
        int live = batch.LiveCount();
        if (live != batch.Count)
        {
            Compact(batch, live);
            (start, end, values) = (_start, _end, _values);
        }

        int times = live * sizeof(long);
        var columns = FrameColumns.Rent((2 * times) + _payload.GetByteCount(values, 0, live));
        var bytes = columns.Writable;
        MemoryMarshal.AsBytes(start.AsSpan(0, live)).CopyTo(bytes);
        MemoryMarshal.AsBytes(end.AsSpan(0, live)).CopyTo(bytes[times..]);
        _payload.Write(values, 0, live, bytes[(2 * times)..]);
        if (live != batch.Count && System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            Array.Clear(_values, 0, live); // written: keep no reference to the payloads
        }

        return new ChannelFrame { Kind = ChannelFrameKind.Batch, Count = live, Columns = columns };
    }

    /// <summary>Decodes a batch frame into <paramref name="batch"/> (empty, with room for the frame's events).</summary>
    /// <exception cref="InvalidDataException">The frame does not hold what it says; the message names the channel, the frame and the reason.</exception>
    public void Decode(string channel, ChannelFrame frame, EventBatch<T> batch)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(batch);
        int count = frame.Count;
        int times = count * sizeof(long);
        int length = frame.Columns?.Length ?? -1;
        if (count < 0 || count > batch.Capacity - batch.Count || length < 2 * times)
        {
            throw Bad(channel, frame, frame.Columns is null
                ? "it has no columns"
                : count < 0 || length < 2 * times
                ? $"{length} bytes cannot hold the time columns of {count} events"
                : $"its {count} events do not fit the receiving batch ({batch.Capacity - batch.Count} free); sender and receiver must use the same batch size");
        }

        int at = batch.Count;
        var source = frame.Columns!.Span;
        source[..times].CopyTo(MemoryMarshal.AsBytes(batch.Start.AsSpan(at, count)));
        source.Slice(times, times).CopyTo(MemoryMarshal.AsBytes(batch.End.AsSpan(at, count)));
        try
        {
            _payload.Read(frame.Columns.Array, 2 * times, length - (2 * times), batch.Payload, at, count);
        }
        catch (InvalidDataException error)
        {
            throw Bad(channel, frame, error.Message);
        }

        var starts = batch.Start;
        for (int i = at + 1; i < at + count; i++)
        {
            if (starts[i] < starts[i - 1])
            {
                throw Bad(channel, frame, $"event {i - at} starts at {starts[i]}, before event {i - at - 1} ({starts[i - 1]}); a batch is ordered by start");
            }
        }

        batch.Count = at + count;
    }

    private static InvalidDataException Bad(string channel, ChannelFrame frame, string reason) =>
        new($"Channel '{channel}' received a batch it cannot read (frame {frame.Sequence} of epoch {frame.Epoch}): {reason}.");

    private void Compact(EventBatch<T> batch, int live)
    {
        if (_start.Length < live)
        {
            _start = new long[batch.Capacity];
            _end = new long[batch.Capacity];
            _values = new T[batch.Capacity];
        }

        int n = 0;
        for (int i = 0; i < batch.Count; i++)
        {
            if (!batch.IsAbsent(i))
            {
                _start[n] = batch.Start[i];
                _end[n] = batch.End[i];
                _values[n] = batch.Payload[i];
                n++;
            }
        }

    }
}
