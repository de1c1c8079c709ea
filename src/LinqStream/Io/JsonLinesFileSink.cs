using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;

namespace LinqStream;

/// <summary>
/// Writes results as JSON lines to a file and commits with checkpoints: at each checkpoint the file is flushed to disk and its
/// length goes into the checkpoint; a restored job cuts the file back to that length before it writes, so the file ends up byte
/// for byte as one uninterrupted run would have written it.
/// </summary>
/// <typeparam name="T">The result type.</typeparam>
/// <remarks>A reader that looks at the file while the job runs may see lines after the last checkpoint that a restore will rewrite.</remarks>
public sealed class JsonLinesFileSink<T> : EventSink<T>
{
    private const int FlushThreshold = 1 << 20;
    private static readonly JsonSerializerOptions DefaultOptions = new(JsonSerializerDefaults.Web);

    private readonly string _path;
    private readonly JsonSerializerOptions _options;
    private readonly ArrayBufferWriter<byte> _pending = new(FlushThreshold + 4096);
    private FileStream? _file;
    private Utf8JsonWriter? _json;

    /// <summary>Initializes a new instance of the <see cref="JsonLinesFileSink{T}"/> class.</summary>
    /// <param name="path">The output file; a fresh job (no checkpoint) replaces it.</param>
    /// <param name="options">How results are written; the default is <see cref="JsonSerializerDefaults.Web"/> (camelCase names).</param>
    public JsonLinesFileSink(string path, JsonSerializerOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _path = path;
        _options = options ?? DefaultOptions;
    }

    /// <inheritdoc/>
    public override string Name => _path;

    /// <inheritdoc/>
    public override bool IsTransactional => true;

    /// <inheritdoc/>
    public override ValueTask OpenAsync(byte[]? committed, CancellationToken cancellationToken)
    {
        _file = new FileStream(_path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read, 0, FileOptions.Asynchronous);
        long length = 0;
        if (committed is not null)
        {
            if (committed.Length != 8)
            {
                throw new InvalidDataException($"The checkpoint's state for sink '{_path}' is {committed.Length} bytes; a JSON-lines sink keeps 8.");
            }

            length = BinaryPrimitives.ReadInt64LittleEndian(committed);
            if (_file.Length < length)
            {
                throw new InvalidDataException($"'{_path}' is {_file.Length} bytes, shorter than the {length} bytes the checkpoint committed: the file was changed outside the job.");
            }
        }

        _file.SetLength(length);
        _file.Position = length;
        _json = new Utf8JsonWriter(_pending, new JsonWriterOptions { Encoder = _options.Encoder, SkipValidation = true });
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public override async ValueTask WriteAsync(ReadOnlyMemory<T> results, CancellationToken cancellationToken)
    {
        var json = _json ?? throw new InvalidOperationException("OpenAsync was not called.");
        for (int i = 0; i < results.Length; i++)
        {
            JsonSerializer.Serialize(json, results.Span[i], _options);
            json.Flush();
            json.Reset();
            _pending.Write("\n"u8);
            if (_pending.WrittenCount >= FlushThreshold)
            {
                await WritePendingAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc/>
    public override async ValueTask<byte[]> PrepareCommitAsync(long checkpointId, CancellationToken cancellationToken)
    {
        await WritePendingAsync(cancellationToken).ConfigureAwait(false);
        _file!.Flush(flushToDisk: true);
        var state = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(state, _file.Length);
        return state;
    }

    /// <inheritdoc/>
    public override async ValueTask CompleteAsync(CancellationToken cancellationToken)
    {
        await WritePendingAsync(cancellationToken).ConfigureAwait(false);
        _file!.Flush(flushToDisk: true);
    }

    /// <inheritdoc/>
    public override async ValueTask DisposeAsync()
    {
        if (_json is not null)
        {
            await _json.DisposeAsync().ConfigureAwait(false);
            _json = null;
        }

        if (_file is not null)
        {
            await _file.DisposeAsync().ConfigureAwait(false);
            _file = null;
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    private async ValueTask WritePendingAsync(CancellationToken cancellationToken)
    {
        if (_pending.WrittenCount == 0)
        {
            return;
        }

        await _file!.WriteAsync(_pending.WrittenMemory, cancellationToken).ConfigureAwait(false);
        _pending.ResetWrittenCount();
    }
}
