namespace LinqStream.Conformance.Tests.Exact;

/// <summary><c>IQStream&lt;out T&gt;</c> is covariant: a stream of strings used as a stream of objects runs and gives the same events.</summary>
public sealed class CovarianceTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    [Fact]
    public async Task StreamOfStrings_AsStreamOfObjects_Runs()
    {
        string[] words = ["a", "bb", "ccc"];
        IQStream<object> query = QStream.From(words, w => T0.AddSeconds(w.Length));

        var actual = await query.ToListAsync();

        Assert.Equal(words, actual);
    }

    [Fact]
    public async Task UnionOfStreamsTypedAsObject_Runs()
    {
        string[] words = ["a", "bb"];
        IQStream<object> left = QStream.From(words, w => T0.AddSeconds(w.Length));
        IQStream<object> right = QStream.From(words, w => T0.AddSeconds(w.Length)).Where(w => w.Length > 1);

        var actual = await left.Union(right).ToListAsync();

        Assert.Equal(["a", "bb", "bb"], actual);
    }

    [Fact]
    public async Task StreamOfStrings_AsStreamOfObjects_ThenFiltered_Runs()
    {
        string[] words = ["a", "bb", "ccc"];
        IQStream<object> objects = QStream.From(words, w => T0.AddSeconds(w.Length));

        var actual = await objects.Where(o => o.ToString()!.Length > 1).Select(o => o.ToString()!.Length).ToListAsync();

        Assert.Equal([2, 3], actual);
    }
}
