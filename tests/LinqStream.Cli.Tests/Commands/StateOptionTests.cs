using LinqStream.Cli.Operations;
using LinqStream.State.RocksDb;

namespace LinqStream.Cli.Tests.Commands;

/// <summary><c>run --state heap|rocksdb:DIR</c>.</summary>
public sealed class StateOptionTests
{
    [Fact]
    public void TryParseState_Heap_IsTheHeapBackend()
    {
        Assert.True(JobSettings.TryParseState("heap", out var backend, out _));
        Assert.Same(StateBackend.Heap, backend);
    }

    [Fact]
    public void TryParseState_RocksDbWithADirectory_IsRocksDbThere()
    {
        Assert.True(JobSettings.TryParseState("rocksdb:state/dir", out var backend, out _));
        var rocks = Assert.IsType<RocksDbStateBackend>(backend);
        Assert.Equal(Path.GetFullPath("state/dir"), rocks.Path);
    }

    [Theory]
    [InlineData("rocksdb:")]
    [InlineData("rocks:dir")]
    [InlineData("")]
    public void TryParseState_Other_IsRefusedNamingTheForms(string text)
    {
        Assert.False(JobSettings.TryParseState(text, out _, out string reason));
        Assert.Contains("--state is heap or rocksdb:DIR", reason, StringComparison.Ordinal);
        Assert.Contains($"'{text}'", reason, StringComparison.Ordinal);
    }
}
