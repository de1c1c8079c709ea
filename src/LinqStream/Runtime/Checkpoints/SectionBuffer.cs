using System.Security.Cryptography;

namespace LinqStream.Runtime.Checkpoints;

/// <summary>
/// One checkpoint section as it is written: a write-only stream over segments that are never copied or regrown (4 KB doubling
/// to 1 MB), so serializing a large state costs its size once, not the two to three times of a growing
/// <see cref="MemoryStream"/> and its final <c>ToArray</c>; the segments are then streamed into the checkpoint file.
/// </summary>
internal sealed class SectionBuffer : Stream
{
    private const int FirstSegment = 4 * 1024;
    private const int LargestSegment = 1024 * 1024;

    private readonly List<byte[]> _segments = [];
    private int _used; // bytes used in the last segment
    private long _length;

    /// <summary>A section that already is an array (a sink's commit state, a parallel run's section).</summary>
    public static SectionBuffer Wrap(byte[] data)
    {
        var buffer = new SectionBuffer();
        buffer._segments.Add(data);
        buffer._used = data.Length;
        buffer._length = data.Length;
        return buffer;
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => _length;

    public override long Position
    {
        get => _length;
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            if (_segments.Count == 0 || _used == _segments[^1].Length)
            {
                int size = _segments.Count == 0 ? FirstSegment : Math.Min(LargestSegment, _segments[^1].Length * 2);
                _segments.Add(new byte[Math.Max(size, FirstSegment)]);
                _used = 0;
            }

            var last = _segments[^1];
            int n = Math.Min(buffer.Length, last.Length - _used);
            buffer[..n].CopyTo(last.AsSpan(_used));
            _used += n;
            _length += n;
            buffer = buffer[n..];
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    /// <summary>Appends the section's bytes to <paramref name="hash"/> and writes them to <paramref name="output"/>.</summary>
    public async Task CopyToAsync(Stream output, IncrementalHash hash, CancellationToken cancellationToken)
    {
        for (int i = 0; i < _segments.Count; i++)
        {
            var segment = _segments[i].AsMemory(0, i == _segments.Count - 1 ? _used : _segments[i].Length);
            hash.AppendData(segment.Span);
            await output.WriteAsync(segment, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes the section's bytes to <paramref name="output"/>.</summary>
    public void WriteTo(Stream output)
    {
        for (int i = 0; i < _segments.Count; i++)
        {
            output.Write(_segments[i], 0, i == _segments.Count - 1 ? _used : _segments[i].Length);
        }
    }

    /// <summary>The section as one array (tests, and the sections read back from a file).</summary>
    public byte[] ToArray()
    {
        var all = new byte[_length];
        int at = 0;
        for (int i = 0; i < _segments.Count; i++)
        {
            int n = i == _segments.Count - 1 ? _used : _segments[i].Length;
            _segments[i].AsSpan(0, n).CopyTo(all.AsSpan(at));
            at += n;
        }

        return all;
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        _segments.Clear();
        base.Dispose(disposing);
    }
}
