using System.Text.Json;

namespace LinqStream.Cli.Output;

/// <summary>Writes each result as one JSON line to a file.</summary>
internal sealed class JsonLinesSink(string path) : IResultSink
{
    private readonly StreamWriter _writer = new(path, append: false);

    public void Write<T>(T result) => _writer.WriteLine(JsonSerializer.Serialize(result, ResultJson.Options));

    public void Complete(long results) => _writer.Flush();

    public void Dispose() => _writer.Dispose();
}
