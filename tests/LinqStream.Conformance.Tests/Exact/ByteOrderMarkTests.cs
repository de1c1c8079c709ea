using System.Text;

namespace LinqStream.Conformance.Tests.Exact;

/// <summary>A UTF-8 byte order mark at the top of a file is an encoding mark, not part of line 1 (JSON lines and CSV alike).</summary>
public sealed class ByteOrderMarkTests : IDisposable
{
    private readonly string _directory = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "linqstream-bom-" + Guid.NewGuid().ToString("N"))).FullName;

    public sealed record Row(string Name, long Time);

    private sealed class Letters : IDeadLetterSink
    {
        public List<DeadLetter> Items { get; } = [];

        public void Write(DeadLetter letter)
        {
            lock (Items)
            {
                Items.Add(letter);
            }
        }
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string name, string text)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(text)]);
        return path;
    }

    [Fact]
    public async Task JsonLinesFile_WithByteOrderMark_ReadsLineOne()
    {
        var letters = new Letters();
        string path = Write("rows.jsonl", "{\"Name\":\"a\",\"Time\":1}\n{\"Name\":\"b\",\"Time\":2}\n");

        var rows = await QStream.From(new JsonLinesFileSource<Row>(path), r => r.Time).WithOptions(new QueryOptions { DeadLetters = letters }).ToListAsync();

        Assert.Equal([new Row("a", 1), new Row("b", 2)], rows);
        Assert.Empty(letters.Items);
    }

    [Fact]
    public async Task CsvFile_WithByteOrderMark_BindsTheFirstColumn()
    {
        var letters = new Letters();
        string path = Write("rows.csv", "Name,Time\na,1\nb,2\n");

        var rows = await QStream.From(new CsvFileSource<Row>(path), r => r.Time).WithOptions(new QueryOptions { DeadLetters = letters }).ToListAsync();

        Assert.Equal([new Row("a", 1), new Row("b", 2)], rows);
        Assert.Empty(letters.Items);
    }
}
