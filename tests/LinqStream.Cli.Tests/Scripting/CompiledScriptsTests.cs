using LinqStream.Cli.Scripting;

namespace LinqStream.Cli.Tests.Scripting;

public sealed class CompiledScriptsTests
{
    private const string Query = """
        record Bid(long Auction, long Price, DateTime Time);

        InputAs<Bid>().Where(b => b.Price > 10)
        """;

    [Fact]
    public async Task Get_SameTextFromManyThreads_CompilesOnceAndGivesOneScript()
    {
        string code = Query + " // " + Guid.NewGuid().ToString("N"); // a text no other test compiled
        long before = CompiledScripts.Compilations;

        var scripts = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => CompiledScripts.Get("q.csx", code))));

        Assert.All(scripts, s => Assert.Same(scripts[0], s));
        Assert.Equal(code, scripts[0].Code);
        Assert.Same(scripts[0], CompiledScripts.Get("q.csx", code));
        Assert.Equal(1, CompiledScripts.Compilations - before); // only this class compiles through the cache, one test at a time
        Assert.NotSame(scripts[0], CompiledScripts.Get("q.csx", code + " "));  // another text is another script
        Assert.NotSame(scripts[0], CompiledScripts.Get("other.csx", code));    // another name too (messages name it)
    }

    [Fact]
    public void Get_ScriptWithErrors_FailsEveryTimeWithTheErrorAtItsLine()
    {
        string code = "record Bid(long Auction);\nInputAs<Bid>().Where(b => b.Missing > 1) // " + Guid.NewGuid().ToString("N");

        var first = Assert.Throws<ScriptContractException>(() => CompiledScripts.Get("bad.csx", code));
        var second = Assert.Throws<ScriptContractException>(() => CompiledScripts.Get("bad.csx", code));

        Assert.Contains("bad.csx(2,", first.Message, StringComparison.Ordinal);
        Assert.Contains("Missing", first.Message, StringComparison.Ordinal);
        Assert.Equal(first.Message, second.Message);
    }
}
