using System.Globalization;
using System.Text.Json;
using LinqStream.Cli.Scripting;

namespace LinqStream.Cli.Input;

/// <summary>
/// One input file of <c>linqstream run</c>: infers its schema, reads it lazily as the query pulls, sends malformed and out-of-order
/// lines to <see cref="MalformedLines"/>, and counts what it read (the progress bar reads the counters from another thread).
/// </summary>
internal sealed class InputFile(InputOptions options, MalformedLines malformed)
{
    private long _bytesRead;
    private long _events;
    private long _lines;

    public InputOptions Options { get; } = options;

    public MalformedLines Malformed { get; } = malformed;

    public long Length { get; } = new FileInfo(options.Path).Length;

    public long BytesRead => Volatile.Read(ref _bytesRead);

    public long Events => Volatile.Read(ref _events);

    public long Lines => Volatile.Read(ref _lines);

    /// <summary>The ingress policy: the reader already keeps the records within <c>--max-delay</c> of the latest time, so the engine only has to sort them.</summary>
    public IngressPolicy Policy(IngressStatistics statistics) =>
        Options.MaxDelay > TimeSpan.Zero ? IngressPolicy.Reorder(Options.MaxDelay).WithStatistics(statistics) : IngressPolicy.Throw.WithStatistics(statistics);

    /// <summary>Reads the file up to its first valid record and returns the parser for the rest, built from that record's fields and kinds.</summary>
    /// <exception cref="InputSchemaException">No record has the time field, or the file has no record.</exception>
    public IRecordParser<Row> InferRowParser()
    {
        string[]? header = null;
        long headerLine = 0;
        string? firstFields = null;
        foreach (var (line, text) in ReadLines(count: false))
        {
            if (Options.Format == InputFormat.Csv)
            {
                if (header is null)
                {
                    header = CsvLine.TrySplit(text, out var names, out string why)
                        ? [.. names.Select(n => n.Trim())]
                        : throw new InputSchemaException($"{Options.DisplayName}:{line}: the header line cannot be read: {why}.");
                    headerLine = line;
                    if (IndexOf(header, Options.TimeField) < 0)
                    {
                        throw NoTimeField(string.Join(", ", header));
                    }

                    continue;
                }

                if (CsvLine.TrySplit(text, out var fields, out _) && fields.Length == header.Length)
                {
                    int time = IndexOf(header, Options.TimeField);
                    if (EventTimeParser.TryParse(fields[time], out _, out _))
                    {
                        var schema = new RowSchema(header, [.. fields.Select(CsvRowParser.KindOf)], time);
                        return new CsvRowParser(schema, line);
                    }
                }

                continue;
            }

            if (!JsonText.TryParseObject(text, out var document, out _))
            {
                continue;
            }

            using (document)
            {
                var properties = document!.RootElement.EnumerateObject().ToArray();
                firstFields ??= string.Join(", ", properties.Select(p => p.Name));
                int time = Array.FindIndex(properties, p => p.Name.Equals(Options.TimeField, StringComparison.OrdinalIgnoreCase));
                if (time < 0)
                {
                    continue;
                }

                var kinds = properties.Select(p => JsonRowParser.KindOf(p.Value.ValueKind)).ToArray();
                object? value = properties[time].Value.ValueKind switch
                {
                    JsonValueKind.Number => properties[time].Value.TryGetInt64(out long ms) ? (object)ms : properties[time].Value.GetDouble(),
                    JsonValueKind.String => properties[time].Value.GetString(),
                    _ => null,
                };
                if (EventTimeParser.TryParse(value, out _, out _))
                {
                    return new JsonRowParser(new RowSchema([.. properties.Select(p => p.Name)], kinds, time), line);
                }
            }
        }

        if (Options.Format == InputFormat.Csv && header is null || Options.Format == InputFormat.Jsonl && firstFields is null)
        {
            throw new InputSchemaException($"{Options.DisplayName} has no {(Options.Format == InputFormat.Csv ? "header line" : "JSON object")}: there is nothing to infer a schema from.");
        }

        if (Options.Format == InputFormat.Jsonl && !HasTimeField(firstFields!))
        {
            throw NoTimeField(firstFields!);
        }

        throw new InputSchemaException(
            $"No line of {Options.DisplayName} is a valid record with a readable time in '{Options.TimeField}' (ISO 8601 text or Unix milliseconds)"
            + (headerLine > 0 ? $" under the header on line {headerLine}." : "."));
    }

    /// <summary>The header of a CSV file (for typed records), or null for JSON lines.</summary>
    public string[]? CsvHeader()
    {
        if (Options.Format != InputFormat.Csv)
        {
            return null;
        }

        foreach (var (line, text) in ReadLines(count: false))
        {
            return CsvLine.TrySplit(text, out var names, out string why)
                ? [.. names.Select(n => n.Trim())]
                : throw new InputSchemaException($"{Options.DisplayName}:{line}: the header line cannot be read: {why}.");
        }

        throw new InputSchemaException($"{Options.DisplayName} has no header line.");
    }

    /// <summary>The records of the file, in file order, as the query pulls them; malformed lines and lines too far out of time order are reported and skipped.</summary>
    public IEnumerable<T> Records<T>(IRecordParser<T> parser)
    {
        long maxTicks = long.MinValue;
        long maxLine = 0;
        long delay = Options.MaxDelay.Ticks;
        bool skipHeader = Options.Format == InputFormat.Csv;
        foreach (var (line, text, error) in ReadRawLines(count: true))
        {
            if (skipHeader && error is null)
            {
                skipHeader = false;
                continue;
            }

            string reason;
            if (error is not null)
            {
                reason = error;
            }
            else if (parser.TryParse(text, line, out var record, out var time, out reason))
            {
                long ticks = time.UtcTicks;
                if (maxTicks == long.MinValue || ticks >= maxTicks - delay)
                {
                    if (ticks > maxTicks)
                    {
                        maxTicks = ticks;
                        maxLine = line;
                    }

                    Interlocked.Increment(ref _events);
                    yield return record;
                    continue;
                }

                reason = OutOfOrder(time, maxTicks, maxLine);
            }

            Malformed.Report(line, reason, text);
            if (Options.Strict)
            {
                // Fail the stream rather than end it: ending it would flush the open windows as if the file were complete.
                throw new MalformedInputException($"{Options.DisplayName}:{line}: {reason}");
            }
        }
    }

    private string OutOfOrder(DateTimeOffset time, long maxTicks, long maxLine)
    {
        var latest = new DateTimeOffset(maxTicks, TimeSpan.Zero);
        string late = (latest - time).ToString("c", CultureInfo.InvariantCulture);
        return Options.MaxDelay > TimeSpan.Zero
            ? $"out of order: event time {time:O} is {late} before line {maxLine}'s {latest:O}, more than --max-delay {Options.MaxDelay.ToString("c", CultureInfo.InvariantCulture)}"
            : $"out of order: event time {time:O} is {late} before line {maxLine}'s {latest:O}; pass --max-delay to sort records that arrive up to that late";
    }

    private IEnumerable<(long Line, string Text)> ReadLines(bool count)
    {
        foreach (var (line, text, error) in ReadRawLines(count))
        {
            if (error is null)
            {
                yield return (line, text);
            }
        }
    }

    /// <summary>
    /// The file's lines as bytes split at '\n', decoded strictly: a line that is not valid UTF-8 or is longer than
    /// <see cref="InputOptions.MaxLineLength"/> comes with an error (its own reason) instead of U+FFFD or unbounded memory.
    /// A UTF-8 byte order mark at the top of the file is skipped.
    /// </summary>
    private IEnumerable<(long Line, string Text, string? Error)> ReadRawLines(bool count)
    {
        var strictUtf8 = new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        int limit = Options.MaxLineLength;
        using var stream = new FileStream(Options.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var chunk = new byte[1 << 16];
        var pending = new List<byte>();
        long line = 0, consumed = 0, tooLongBytes = 0;
        bool first = true;
        int read;
        while (true)
        {
            read = stream.Read(chunk, 0, chunk.Length);
            int from = 0;
            if (first && read >= 3 && chunk[0] == 0xEF && chunk[1] == 0xBB && chunk[2] == 0xBF)
            {
                from = 3;
                consumed = 3;
            }

            first = false;
            for (int i = from; i <= read; i++)
            {
                bool end = i == read;
                if (end && read > 0)
                {
                    // Keep the tail of the chunk for the next read (up to the limit; beyond it only count the bytes).
                    Append(chunk.AsSpan(from, read - from));
                    break;
                }

                if (!end && chunk[i] != (byte)'\n')
                {
                    continue;
                }

                if (end && pending.Count == 0 && tooLongBytes == 0)
                {
                    yield break; // end of file, nothing pending
                }

                Append(chunk.AsSpan(from, i - from));
                long length = pending.Count + tooLongBytes;
                consumed += length + (end ? 0 : 1);
                from = i + 1;
                line++;
                if (count)
                {
                    Volatile.Write(ref _bytesRead, consumed);
                    Volatile.Write(ref _lines, line);
                }

                var bytes = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pending);
                if (bytes.Length > 0 && bytes[^1] == (byte)'\r' && tooLongBytes == 0)
                {
                    bytes = bytes[..^1];
                }

                if (tooLongBytes > 0 || bytes.Length > limit)
                {
                    string head = System.Text.Encoding.UTF8.GetString(bytes[..Math.Min(bytes.Length, 200)]);
                    pending.Clear();
                    tooLongBytes = 0;
                    yield return (line, head, $"the line is longer than {limit} bytes (--max-line-length)");
                }
                else
                {
                    string? text = null, error = null;
                    try
                    {
                        text = strictUtf8.GetString(bytes);
                    }
                    catch (System.Text.DecoderFallbackException ex)
                    {
                        int at = ex.Index >= 0 ? ex.Index : 0;
                        error = $"the line is not valid UTF-8 (byte {at + 1} of the line)";
                        text = System.Text.Encoding.UTF8.GetString(bytes);
                    }

                    pending.Clear();
                    if (error is not null)
                    {
                        yield return (line, text, error);
                    }
                    else if (!string.IsNullOrWhiteSpace(text))
                    {
                        yield return (line, text, null);
                    }
                }

                if (end)
                {
                    yield break;
                }
            }
        }

        void Append(ReadOnlySpan<byte> bytes)
        {
            // Bytes past the limit (plus one for a '\r') are counted, not kept: a 300 MB line costs no more memory than the limit.
            int room = (int)Math.Max(0, Math.Min(bytes.Length, (long)limit + 1 - pending.Count));
            if (tooLongBytes == 0 && room > 0)
            {
                pending.AddRange(bytes[..room]);
            }

            if (room < bytes.Length)
            {
                tooLongBytes += bytes.Length - room;
            }
        }
    }

    private static int IndexOf(string[] header, string name) => Array.FindIndex(header, h => h.Equals(name, StringComparison.OrdinalIgnoreCase));

    private bool HasTimeField(string fields) => fields.Split(", ").Any(f => f.Equals(Options.TimeField, StringComparison.OrdinalIgnoreCase));

    private InputSchemaException NoTimeField(string fields) =>
        new($"{Options.DisplayName} has no field '{Options.TimeField}' for the event time; name it with --time FIELD. The fields are: {fields}.");
}
