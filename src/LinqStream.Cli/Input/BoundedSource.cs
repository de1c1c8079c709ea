using System.Buffers.Binary;

namespace LinqStream.Cli.Input;

/// <summary>
/// A source that ends after a given number of events (<c>redis://HOST:PORT/STREAM?count=N</c>): the stream it reads is followed,
/// so events written after the job started are read too, and the input's end does not depend on when the job (or a take-over of
/// it) first looked at the stream. The cluster demo writes the second half of its input only after it killed a silo, so the kill
/// always lands while the job runs.
/// </summary>
/// <remarks>
/// The position is the number of events read so far (8 bytes, little-endian) followed by the inner source's position, so a restore
/// resumes both. A record sent to dead letters is not an event and does not count.
/// </remarks>
internal sealed class BoundedSource<T>(EventSource<T> inner, long count) : EventSource<T>
{
    private long _read;

    public override string Name => inner.Name;

    public override bool CanReplay => inner.CanReplay;

    public override ValueTask OpenAsync(SourceContext context, byte[]? position, CancellationToken cancellationToken)
    {
        if (position is null)
        {
            _read = 0;
            return inner.OpenAsync(context, null, cancellationToken);
        }

        if (position.Length < sizeof(long))
        {
            throw new InvalidDataException($"The saved position of {Name} has {position.Length} bytes; a source with ?count=N saves at least 8 (the events read so far).");
        }

        _read = BinaryPrimitives.ReadInt64LittleEndian(position);
        if (_read < 0 || _read > count)
        {
            throw new InvalidDataException($"The saved position of {Name} says {_read} events were read; the source ends after {count} (?count={count}). Was the job submitted again with another count?");
        }

        return inner.OpenAsync(context, position.Length == sizeof(long) ? null : position[sizeof(long)..], cancellationToken);
    }

    public override async ValueTask<SourceRead> ReadAsync(Memory<T> buffer, CancellationToken cancellationToken)
    {
        long left = count - _read;
        if (left <= 0)
        {
            return SourceRead.Completed;
        }

        var read = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, left)], cancellationToken).ConfigureAwait(false);
        _read += read.Count;
        if (read.IsCompleted && _read < count)
        {
            throw new InvalidOperationException($"{Name} ended after {_read} events; it was to be read up to {count} (?count={count}).");
        }

        return read;
    }

    public override byte[] GetPosition()
    {
        var position = inner.GetPosition();
        var bytes = new byte[sizeof(long) + position.Length];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, _read);
        position.CopyTo(bytes, sizeof(long));
        return bytes;
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
