using System.Diagnostics.CodeAnalysis;
using LinqStream.Cli.Input;

namespace LinqStream.Cli.Scripting;

/// <summary>
/// What a <c>linqstream run</c> script sees as globals: <see cref="input"/>, the input file as a stream of <see cref="Row"/>s, and
/// <see cref="InputAs{T}"/>, the same file read into a record type the script declares.
/// </summary>
/// <remarks>The script's last expression, written without a semicolon, is the query: an <c>IQStream&lt;T&gt;</c>.</remarks>
public sealed class RunGlobals
{
    private readonly InputFile? _file;
    private readonly MessageInput? _messages;
    private readonly IngressStatistics _statistics;
    private readonly string _timeField;
    private readonly Dictionary<Type, object> _streams = [];

    internal RunGlobals(InputFile? file, IngressStatistics statistics, string timeField = "time")
    {
        _file = file;
        _statistics = statistics;
        _timeField = file?.Options.TimeField ?? timeField;
    }

    internal RunGlobals(MessageInput messages, IngressStatistics statistics)
    {
        _messages = messages;
        _statistics = statistics;
        _timeField = messages.TimeField;
    }

    /// <summary>Gets the input file as a stream of rows whose schema is inferred from the file; each row's event time is <see cref="Row.Time"/>.</summary>
    /// <remarks>Named in lower case, as a script's variable would be: <c>from r in input where r.Long("price") &gt; 100 select r</c>.</remarks>
    [SuppressMessage("Style", "IDE1006:Naming Styles", Justification = "The script contract names it 'input', like a variable.")]
    public IQStream<Row> input => (IQStream<Row>)Stream(typeof(Row), () =>
    {
        if (_messages is not null)
        {
            return _messages.Rows(Policy());
        }

        var parser = _file?.InferRowParser();
        IEnumerable<Row> rows = _file is null || parser is null ? [] : _file.Records(parser);
        return QStream.From(rows, r => r.Time, Policy(), "input");
    });

    /// <summary>Gets the input file as a stream of <typeparamref name="T"/> records (System.Text.Json, case-insensitive names; CSV columns by header name).</summary>
    /// <typeparam name="T">A record type the script declares, such as <c>record Bid(long Auction, long Price, DateTime Time);</c>.</typeparam>
    /// <returns>The stream; its event time is <typeparamref name="T"/>'s property named by <c>--time</c> (a DateTime, DateTimeOffset or long of Unix milliseconds).</returns>
    public IQStream<T> InputAs<T>() => (IQStream<T>)Stream(typeof(T), () =>
    {
        if (_messages is not null)
        {
            return _messages.As<T>(Policy());
        }

        var time = TypedParser<T>.TimeSelector(_timeField);
        IEnumerable<T> records = _file is null ? [] : _file.Records(new TypedParser<T>(_file.CsvHeader(), time.Compile()));
        return QStream.From(records, time, Policy(), "input");
    });

    private IngressPolicy Policy() => _messages?.Policy(_statistics) ?? _file?.Policy(_statistics) ?? IngressPolicy.Throw.WithStatistics(_statistics);

    private object Stream(Type type, Func<object> create)
    {
        if (!_streams.TryGetValue(type, out var stream))
        {
            stream = create();
            _streams[type] = stream;
        }

        return stream;
    }
}
