using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using LinqStream.Cli.Scripting;

namespace LinqStream.Cli.Input;

/// <summary>
/// The input of <c>linqstream run --source URI...</c>: one partition per stream or subject, each message one JSON object; a
/// message that is not a valid record is a dead letter (printed, kept in <c>--dead-letter</c>, or fatal under <c>--strict</c>).
/// </summary>
internal sealed class MessageInput(IReadOnlyList<SourceUri> sources, string timeField, TimeSpan maxDelay, bool follow, TimeSpan? idleTimeout, MessageDeadLetters deadLetters)
{
    private long _events;

    public IReadOnlyList<SourceUri> Sources { get; } = sources;

    public MessageDeadLetters DeadLetters { get; } = deadLetters;

    public string TimeField { get; } = timeField;

    public long Events => Volatile.Read(ref _events);

    /// <summary>Messages up to <c>--max-delay</c> out of order are sorted in; later ones are dropped and counted.</summary>
    public IngressPolicy Policy(IngressStatistics statistics) =>
        maxDelay > TimeSpan.Zero ? IngressPolicy.Reorder(maxDelay).WithStatistics(statistics) : IngressPolicy.Drop.WithStatistics(statistics);

    public IQStream<Row> Rows(IngressPolicy policy) =>
        Partitions(() => new InferringRowParser(TimeField), r => r.Time, policy);

    public IQStream<T> As<T>(IngressPolicy policy)
    {
        var time = TypedParser<T>.TimeSelector(TimeField);
        var compiled = time.Compile();
        return Partitions(() => new TypedParser<T>(null, compiled), time, policy);
    }

    private IQStream<T> Partitions<T>(Func<IRecordParser<T>> parser, System.Linq.Expressions.Expression<Func<T, DateTimeOffset>> time, IngressPolicy policy)
    {
        // One parser per partition: each reads its own messages on its own task.
        var partitions = Sources.Select(s => s.CreateSource(new TextRecordSerializer<T>(parser(), this), follow)).ToArray();
        return QStream.From(partitions, time, policy, idleTimeout, partitions.Length == 1 ? "input" : null)
            .WithOptions(new QueryOptions { DeadLetters = DeadLetters });
    }

    /// <summary>Decodes a message as UTF-8 text with the same parsers as the lines of an input file.</summary>
    private sealed class TextRecordSerializer<T>(IRecordParser<T> parser, MessageInput input) : EventSerializer<T>
    {
        private long _number;

        public override T Deserialize(ReadOnlySpan<byte> data)
        {
            if (parser.TryParse(Encoding.UTF8.GetString(data), ++_number, out var record, out _, out string reason))
            {
                Interlocked.Increment(ref input._events);
                return record;
            }

            throw new FormatException(reason);
        }

        public override void Serialize(T value, System.Buffers.IBufferWriter<byte> output) =>
            throw new NotSupportedException("linqstream run only reads messages.");
    }

    /// <summary>The row parser of a stream: its schema is that of the first message that is a JSON object with a readable time.</summary>
    private sealed class InferringRowParser(string timeField) : IRecordParser<Row>
    {
        private JsonRowParser? _parser;

        public bool TryParse(string text, long line, out Row record, out DateTimeOffset time, out string reason)
        {
            if (_parser is null && !TryInfer(text, line, out reason))
            {
                record = null!;
                time = default;
                return false;
            }

            return _parser!.TryParse(text, line, out record!, out time, out reason);
        }

        private bool TryInfer(string text, long line, out string reason)
        {
            if (!JsonText.TryParseObject(text, out var document, out reason))
            {
                return false;
            }

            using (document)
            {
                var properties = document!.RootElement.EnumerateObject().ToArray();
                int index = Array.FindIndex(properties, p => p.Name.Equals(timeField, StringComparison.OrdinalIgnoreCase));
                if (index < 0)
                {
                    reason = $"no field '{timeField}' for the event time (name it with --time FIELD); the fields are: {string.Join(", ", properties.Select(p => p.Name))}";
                    return false;
                }

                var value = properties[index].Value;
                object? raw = value.ValueKind switch
                {
                    JsonValueKind.Number => value.TryGetInt64(out long ms) ? (object)ms : value.GetDouble(),
                    JsonValueKind.String => value.GetString(),
                    _ => null,
                };
                if (!EventTimeParser.TryParse(raw, out _, out string why))
                {
                    reason = $"time field '{properties[index].Name}': {why}";
                    return false;
                }

                var schema = new RowSchema([.. properties.Select(p => p.Name)], [.. properties.Select(p => JsonRowParser.KindOf(p.Value.ValueKind))], index);
                _parser = new JsonRowParser(schema, line);
                return true;
            }
        }
    }
}

/// <summary>
/// Dead letters of <c>run --source</c>: <c>SOURCE POSITION: reason</c> on standard error (the first 20), every one as a JSON line
/// <c>{"source","position","reason","text"}</c> in the dead-letter file, and under <c>--strict</c> the first one stops the run.
/// </summary>
internal sealed class MessageDeadLetters(TextWriter console, string? path, bool strict) : IDeadLetterSink, IDisposable
{
    private static readonly JsonSerializerOptions s_json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
    private readonly Lock _lock = new();
    private readonly StreamWriter? _file = path is null ? null : new StreamWriter(path, append: false);
    private long _count;

    public string? Path { get; } = path;

    public long Count => Interlocked.Read(ref _count);

    public void Write(DeadLetter letter)
    {
        ArgumentNullException.ThrowIfNull(letter);
        lock (_lock)
        {
            long n = ++_count;
            string message = $"{letter.Source} {letter.Position}: {letter.Reason}";
            if (n <= MalformedLines.MaxPrinted)
            {
                console.WriteLine(message);
            }
            else if (n == MalformedLines.MaxPrinted + 1)
            {
                console.WriteLine(Path is null ? "(more malformed messages are not printed; pass --dead-letter FILE to keep them all)" : $"(more malformed messages are not printed; all are in {Path})");
            }

            _file?.WriteLine(JsonSerializer.Serialize(new { letter.Source, letter.Position, letter.Reason, Text = letter.Record }, s_json));
            if (strict)
            {
                throw new MalformedInputException(message);
            }
        }
    }

    public void Dispose() => _file?.Dispose();

    public override string ToString() => Count.ToString(CultureInfo.InvariantCulture);
}
