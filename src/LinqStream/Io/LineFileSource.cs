using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace LinqStream;

/// <summary>
/// A text file with one record per line, read as a replayable source: its position is a byte offset, so a restored job goes on
/// at the first line after its checkpoint. A line that does not parse, is not valid UTF-8 or is longer than
/// <see cref="MaxLineLength"/> goes to the dead letters with its line number, byte offset and reason; the lines around it are read.
/// Derived classes say how one line becomes an event (<see cref="JsonLinesFileSource{T}"/>, <see cref="CsvFileSource{T}"/>).
/// </summary>
/// <typeparam name="T">The payload type.</typeparam>
public abstract class LineFileSource<T> : EventSource<T>
{
    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    private readonly string _path;
    private FileStream? _file;
    private SourceContext? _context;
    private byte[] _buffer = [];
    private int _head;
    private int _tail;
    private bool _endOfFile;
    private bool _skippingLongLine;
    private long _offset;
    private long _line;

    /// <summary>Initializes a new instance of the <see cref="LineFileSource{T}"/> class.</summary>
    /// <param name="path">The file.</param>
    protected LineFileSource(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _path = path;
    }

    /// <summary>Gets the number of lines at the top of the file that are not records (a CSV header); they are given to <see cref="ReadHeader"/>.</summary>
    protected virtual int HeaderLines => 0;

    /// <summary>Gets or sets the longest line read, in bytes; a longer line goes to the dead letters (cut to <see cref="DeadLetter.MaxRecordLength"/>).</summary>
    /// <value>The default value is 16 MiB.</value>
    public int MaxLineLength { get; init; } = 16 << 20;

    /// <inheritdoc/>
    public override string Name => _path;

    /// <inheritdoc/>
    public override bool CanReplay => true;

    /// <summary>Gets the buffer size that holds a line of <see cref="MaxLineLength"/> bytes with its line ending (<c>\r\n</c>): a line that long is read.</summary>
    private int BufferLimit => (int)Math.Min((long)MaxLineLength + 2, Array.MaxLength);

    private string TooLong => $"the line is longer than {MaxLineLength} bytes (MaxLineLength)";

    /// <inheritdoc/>
    public override async ValueTask OpenAsync(SourceContext context, byte[]? position, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        if (HeaderLines > 0)
        {
            await ReadHeaderLinesAsync(cancellationToken).ConfigureAwait(false);
        }

        _file = new FileStream(_path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.ReadWrite | FileShare.Delete, BufferSize = 0, Options = FileOptions.SequentialScan | FileOptions.Asynchronous });
        (_offset, _line) = position is null ? (0L, 0L) : ReadPosition(position);
        if (_offset > _file.Length)
        {
            throw new InvalidDataException($"The checkpoint's position (byte {_offset}) is past the end of '{_path}' ({_file.Length} bytes): the file was replaced or truncated.");
        }

        _file.Position = _offset;
        _buffer = new byte[Math.Min(1 << 20, BufferLimit)];
        _head = _tail = 0;
        _endOfFile = false;
        _skippingLongLine = false;
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

        GC.SuppressFinalize(this);
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

        if (lineStart == 0 && line.StartsWith(Utf8Bom))
        {
            line = line[Utf8Bom.Length..]; // a UTF-8 byte order mark says how the file is encoded; it is not part of line 1
        }

        if (line.Length > 0 && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        if (line.Trim(" \t"u8).IsEmpty)
        {
            return;
        }

        if (_line <= HeaderLines)
        {
            return;
        }

        if (line.Length > MaxLineLength)
        {
            // It fitted in the buffer only because the buffer has room for the line ending.
            Reject(lineStart, _line, TooLong, line);
            return;
        }

        string? reason;
        try
        {
            if (TryParse(line, out var value, out reason))
            {
                output[count++] = value;
                return;
            }
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException or FormatException or OverflowException or ArgumentException or DecoderFallbackException)
        {
            reason = ex is JsonException ? ex.Message : ex.GetType().Name + ": " + ex.Message;
        }

        Reject(lineStart, _line, reason, line);
    }

    /// <summary>Turns one line (without its line break) into an event.</summary>
    /// <param name="line">The line's bytes (UTF-8 expected).</param>
    /// <param name="value">The event.</param>
    /// <param name="reason">Why the line was rejected, when it returns <see langword="false"/>.</param>
    /// <returns>Whether the line is a valid record. Throwing a format exception counts as a rejection too.</returns>
    protected abstract bool TryParse(ReadOnlySpan<byte> line, out T value, out string reason);

    /// <summary>Reads the header lines (called at every open, also when a restore starts after them).</summary>
    /// <param name="lines">The first <see cref="HeaderLines"/> lines of the file.</param>
    protected virtual void ReadHeader(IReadOnlyList<string> lines)
    {
    }

    private async Task ReadHeaderLinesAsync(CancellationToken cancellationToken)
    {
        // Only the header's own bytes are decoded (strictly), so a bad byte further down is the business of that line's record.
        var strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        var lines = new List<string>(HeaderLines);
        var bytes = new List<byte>();
        await using (var file = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096, FileOptions.Asynchronous))
        {
            var chunk = new byte[4096];
            while (lines.Count < HeaderLines)
            {
                int read = await file.ReadAsync(chunk, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                int first = 0;
                if (file.Position == read && chunk.AsSpan(0, read).StartsWith(Utf8Bom))
                {
                    first = Utf8Bom.Length;
                }

                for (int i = first; i < read && lines.Count < HeaderLines; i++)
                {
                    if (chunk[i] == (byte)'\n')
                    {
                        lines.Add(strict.GetString([.. bytes]).TrimEnd('\r'));
                        bytes.Clear();
                    }
                    else if (bytes.Count < MaxLineLength)
                    {
                        bytes.Add(chunk[i]);
                    }
                }
            }
        }

        if (lines.Count < HeaderLines)
        {
            throw new InvalidDataException($"'{_path}' has {lines.Count} complete lines; its header needs {HeaderLines}.");
        }

        ReadHeader(lines);
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
            if (_buffer.Length >= BufferLimit)
            {
                // A line longer than the limit: report it, drop what we hold, and skip to its end.
                long lineStart = _offset;
                _offset += _tail;
                Reject(lineStart, _line + 1, TooLong, _buffer.AsSpan(0, _tail));
                _head = _tail = 0;
                _skippingLongLine = true;
                await SkipRestOfLineAsync(cancellationToken).ConfigureAwait(false);
                return;
            }

            Array.Resize(ref _buffer, (int)Math.Min((long)_buffer.Length * 2, BufferLimit));
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

/// <summary>
/// Reads a JSON-lines file (one JSON object per line) as a replayable source, positioned by byte offset. A line that is not
/// valid JSON for <typeparamref name="T"/> (or JSON <c>null</c>) goes to the dead letters with its line number and the parser's reason.
/// </summary>
/// <typeparam name="T">The payload type.</typeparam>
public sealed class JsonLinesFileSource<T> : LineFileSource<T>
{
    private static readonly JsonSerializerOptions DefaultOptions = new(JsonSerializerDefaults.Web);

    private readonly JsonSerializerOptions _options;

    /// <summary>Initializes a new instance of the <see cref="JsonLinesFileSource{T}"/> class.</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">How lines map to <typeparamref name="T"/>; the default is <see cref="JsonSerializerDefaults.Web"/> (property names match case-insensitively).</param>
    public JsonLinesFileSource(string path, JsonSerializerOptions? options = null)
        : base(path) => _options = options ?? DefaultOptions;

    /// <inheritdoc/>
    protected override bool TryParse(ReadOnlySpan<byte> line, out T value, out string reason)
    {
        value = JsonSerializer.Deserialize<T>(line, _options)!;
        reason = "the line is JSON null";
        return value is not null;
    }
}
