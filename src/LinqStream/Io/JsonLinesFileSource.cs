using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace LinqStream;

/// <summary>
/// Reads a JSON-lines file (one JSON object per line) as a replayable source: its position is a byte offset, so a restored job
/// goes on at the first line after its checkpoint. A line that is not valid JSON for <typeparamref name="T"/>, is not valid UTF-8 or
/// is longer than <see cref="MaxLineLength"/> goes to the dead letters with its line number and byte offset; the lines around it are read.
/// </summary>
/// <typeparam name="T">The payload type.</typeparam>
public sealed class JsonLinesFileSource<T> : EventSource<T>
{
    private static readonly JsonSerializerOptions DefaultOptions = new(JsonSerializerDefaults.Web);

    private readonly string _path;
    private readonly JsonSerializerOptions _options;
    private FileStream? _file;
    private SourceContext? _context;
    private byte[] _buffer = [];
    private int _head;
    private int _tail;
    private bool _endOfFile;
    private bool _skippingLongLine;
    private long _offset;
    private long _line;

    /// <summary>Initializes a new instance of the <see cref="JsonLinesFileSource{T}"/> class.</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">How lines map to <typeparamref name="T"/>; the default is <see cref="JsonSerializerDefaults.Web"/> (property names match case-insensitively).</param>
    public JsonLinesFileSource(string path, JsonSerializerOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _path = path;
        _options = options ?? DefaultOptions;
    }

    /// <summary>Gets or sets the longest line read, in bytes; a longer line goes to the dead letters (cut to <see cref="DeadLetter.MaxRecordLength"/>).</summary>
    /// <value>The default value is 16 MiB.</value>
    public int MaxLineLength { get; init; } = 16 << 20;

    /// <inheritdoc/>
    public override string Name => _path;

    /// <inheritdoc/>
    public override bool CanReplay => true;

    /// <inheritdoc/>
    public override ValueTask OpenAsync(SourceContext context, byte[]? position, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        _file = new FileStream(_path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.ReadWrite | FileShare.Delete, BufferSize = 0, Options = FileOptions.SequentialScan | FileOptions.Asynchronous });
        (_offset, _line) = position is null ? (0L, 0L) : ReadPosition(position);
        if (_offset > _file.Length)
        {
            throw new InvalidDataException($"The checkpoint's position (byte {_offset}) is past the end of '{_path}' ({_file.Length} bytes): the file was replaced or truncated.");
        }

        _file.Position = _offset;
        _buffer = new byte[Math.Min(1 << 20, MaxLineLength)];
        _head = _tail = 0;
        _endOfFile = false;
        _skippingLongLine = false;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public override async ValueTask<SourceRead> ReadAsync(Memory<T> buffer, CancellationToken cancellationToken)
    {
        if (_file is null || _context is null)
        {
            throw new InvalidOperationException("OpenAsync was not called.");
        }

        int count = 0;
        while (count < buffer.Length)
        {
            int newline = _buffer.AsSpan(_head, _tail - _head).IndexOf((byte)'\n');
            if (newline < 0)
            {
                if (_endOfFile)
                {
                    if (_tail > _head)
                    {
                        // The last line has no newline: read it as a line.
                        Take(_buffer.AsSpan(_head, _tail - _head), _tail - _head, buffer.Span, ref count);
                        _head = _tail;
                    }

                    return new SourceRead(count, count == 0 || _head == _tail);
                }

                if (count > 0 && _tail - _head < _buffer.Length / 2 && _tail == _buffer.Length)
                {
                    // Give the query what we have before moving bytes around.
                    return new SourceRead(count, false);
                }

                await FillAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            var line = _buffer.AsSpan(_head, newline);
            Take(line, newline + 1, buffer.Span, ref count);
            _head += newline + 1;
        }

        return new SourceRead(count, false);
    }

    /// <inheritdoc/>
    public override byte[] GetPosition()
    {
        var position = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(position, _offset);
        BinaryPrimitives.WriteInt64LittleEndian(position.AsSpan(8), _line);
        return position;
    }

    /// <inheritdoc/>
    public override async ValueTask DisposeAsync()
    {
        if (_file is not null)
        {
            await _file.DisposeAsync().ConfigureAwait(false);
            _file = null;
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    private static (long Offset, long Line) ReadPosition(byte[] position)
    {
        if (position.Length != 16)
        {
            throw new InvalidDataException($"A JSON-lines position is 16 bytes; this one is {position.Length}.");
        }

        return (BinaryPrimitives.ReadInt64LittleEndian(position), BinaryPrimitives.ReadInt64LittleEndian(position.AsSpan(8)));
    }

    /// <summary>Consumes one line (<paramref name="consumed"/> bytes including its newline): an event, a dead letter, or nothing for a blank line.</summary>
    private void Take(ReadOnlySpan<byte> line, int consumed, Span<T> output, ref int count)
    {
        long lineStart = _offset;
        _offset += consumed;
        _line++;
        if (_skippingLongLine)
        {
            // The rest of a line that was already reported as too long.
            _skippingLongLine = false;
            return;
        }

        if (line.Length > 0 && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        if (line.Trim(" \t"u8).IsEmpty)
        {
            return;
        }

        string? reason;
        try
        {
            var value = JsonSerializer.Deserialize<T>(line, _options);
            if (value is not null)
            {
                output[count++] = value;
                return;
            }

            reason = "the line is JSON null";
        }
        catch (JsonException ex)
        {
            reason = ex.Message;
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException or FormatException or OverflowException or ArgumentException)
        {
            reason = ex.GetType().Name + ": " + ex.Message;
        }

        Reject(lineStart, _line, reason, line);
    }

    private void Reject(long byteOffset, long lineNumber, string reason, ReadOnlySpan<byte> record)
    {
        var text = Encoding.UTF8.GetString(record[..Math.Min(record.Length, DeadLetter.MaxRecordLength * 3)]);
        _context!.DeadLetters.Write(DeadLetter.Create(_path, $"line {lineNumber} (byte {byteOffset})", reason, text));
    }

    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        if (_head > 0)
        {
            _buffer.AsSpan(_head, _tail - _head).CopyTo(_buffer);
            _tail -= _head;
            _head = 0;
        }

        if (_tail == _buffer.Length)
        {
            if (_buffer.Length >= MaxLineLength)
            {
                // A line longer than the limit: report it, drop what we hold, and skip to its end.
                long lineStart = _offset;
                _offset += _tail;
                Reject(lineStart, _line + 1, $"the line is longer than {MaxLineLength} bytes (MaxLineLength)", _buffer.AsSpan(0, _tail));
                _head = _tail = 0;
                _skippingLongLine = true;
                await SkipRestOfLineAsync(cancellationToken).ConfigureAwait(false);
                return;
            }

            Array.Resize(ref _buffer, (int)Math.Min((long)_buffer.Length * 2, MaxLineLength));
        }

        int read = await _file!.ReadAsync(_buffer.AsMemory(_tail), cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            _endOfFile = true;
        }

        _tail += read;
    }

    /// <summary>Reads and drops bytes up to the next newline, leaving whatever follows it in the buffer.</summary>
    private async ValueTask SkipRestOfLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            int read = await _file!.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                _endOfFile = true;
                _skippingLongLine = false;
                _line++;
                return;
            }

            int newline = _buffer.AsSpan(0, read).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                _offset += newline + 1;
                _line++;
                _skippingLongLine = false;
                _head = newline + 1;
                _tail = read;
                return;
            }

            _offset += read;
        }
    }
}
