using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace LinqStream.Cli.Input;

/// <summary>
/// Reports malformed input lines: <c>FILE:LINE: reason</c> on standard error (the first <see cref="MaxPrinted"/>), and every one as a
/// JSON line <c>{"file","line","reason","text"}</c> in the dead-letter file when there is one.
/// </summary>
internal sealed class MalformedLines : IDisposable
{
    public const int MaxPrinted = 20;

    private static readonly JsonSerializerOptions s_json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly Lock _lock = new();
    private readonly HashSet<long> _lines = [];
    private readonly string _file;
    private readonly TextWriter _console;
    private readonly StreamWriter? _deadLetter;

    public MalformedLines(string file, TextWriter console, string? deadLetterPath)
    {
        _file = file;
        _console = console;
        DeadLetterPath = deadLetterPath;
        if (deadLetterPath is not null)
        {
            _deadLetter = new StreamWriter(deadLetterPath, append: false) { AutoFlush = false };
        }
    }

    public string? DeadLetterPath { get; }

    /// <summary>Gets the number of distinct malformed lines.</summary>
    public long Count
    {
        get
        {
            lock (_lock)
            {
                return _lines.Count;
            }
        }
    }

    /// <summary>Records a malformed line once, however many readers of the file meet it.</summary>
    public void Report(long line, string reason, string text)
    {
        lock (_lock)
        {
            if (!_lines.Add(line))
            {
                return;
            }

            string message = $"{_file}:{line.ToString(CultureInfo.InvariantCulture)}: {reason}";
            if (_lines.Count <= MaxPrinted)
            {
                _console.WriteLine(message);
            }
            else if (_lines.Count == MaxPrinted + 1)
            {
                _console.WriteLine(DeadLetterPath is null
                    ? "(more malformed lines are not printed; pass --dead-letter FILE to keep them all)"
                    : $"(more malformed lines are not printed; all are in {DeadLetterPath})");
            }

            _deadLetter?.WriteLine(JsonSerializer.Serialize(new DeadLetter(_file, line, reason, text), s_json));
        }
    }

    public void Dispose() => _deadLetter?.Dispose();

    private sealed record DeadLetter(
        [property: System.Text.Json.Serialization.JsonPropertyName("file")] string File,
        [property: System.Text.Json.Serialization.JsonPropertyName("line")] long Line,
        [property: System.Text.Json.Serialization.JsonPropertyName("reason")] string Reason,
        [property: System.Text.Json.Serialization.JsonPropertyName("text")] string Text);
}
