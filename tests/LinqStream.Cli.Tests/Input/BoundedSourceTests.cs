using System.Buffers.Binary;
using LinqStream.Cli.Input;

namespace LinqStream.Cli.Tests.Input;

/// <summary>A source with <c>?count=N</c> (what the cluster demo reads, to hold its input until the kill): it follows its stream and ends after N events.</summary>
public sealed class BoundedSourceTests
{
    private static readonly SourceContext Context = new(new NoDeadLetters(), TimeProvider.System);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task ReadAsync_InputWrittenInTwoHalves_WaitsForTheSecondAndEndsAfterExactlyCount(int seed)
    {
        var random = new Random(seed);
        int count = random.Next(50, 500);
        var stream = new GrowingStream();
        stream.Append(Enumerable.Range(0, count / 2));
        var source = new BoundedSource<int>(new GrowingSource(stream), count);
        await source.OpenAsync(Context, null, CancellationToken.None);

        var read = new List<int>();
        Assert.False(await DrainAsync(source, read, random)); // the first half, then "nothing yet": not the end
        Assert.Equal(Enumerable.Range(0, count / 2), read);

        stream.Append(Enumerable.Range(count / 2, count - (count / 2) + 7)); // the rest, and 7 events the bound must not read
        Assert.True(await DrainAsync(source, read, random));
        Assert.Equal(Enumerable.Range(0, count), read);
        Assert.True((await source.ReadAsync(new int[16], CancellationToken.None)).IsCompleted);
    }

    [Fact]
    public async Task OpenAsync_AtASavedPosition_ResumesTheCountAndTheInnerSource()
    {
        var stream = new GrowingStream();
        stream.Append(Enumerable.Range(0, 100));
        var first = new BoundedSource<int>(new GrowingSource(stream), 100);
        await first.OpenAsync(Context, null, CancellationToken.None);
        var buffer = new int[37];
        var read = await first.ReadAsync(buffer, CancellationToken.None);
        Assert.Equal(37, read.Count);
        var position = first.GetPosition();
        Assert.Equal(37, BinaryPrimitives.ReadInt64LittleEndian(position));

        var second = new BoundedSource<int>(new GrowingSource(stream), 100);
        await second.OpenAsync(Context, position, CancellationToken.None);
        var rest = new List<int>();
        Assert.True(await DrainAsync(second, rest, new Random(5)));
        Assert.Equal(Enumerable.Range(37, 63), rest);
    }

    [Fact]
    public async Task ReadAsync_InnerSourceEndsBeforeCount_FailsNamingTheSourceAndBothCounts()
    {
        var stream = new GrowingStream();
        stream.Append(Enumerable.Range(0, 10));
        stream.End();
        var source = new BoundedSource<int>(new GrowingSource(stream), 25);
        await source.OpenAsync(Context, null, CancellationToken.None);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await DrainAsync(source, [], new Random(1)));
        Assert.Contains("memory://growing", error.Message, StringComparison.Ordinal);
        Assert.Contains("ended after 10 events", error.Message, StringComparison.Ordinal);
        Assert.Contains("?count=25", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAsync_PositionBeyondTheCount_FailsSayingSo()
    {
        var position = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(position, 30);
        var source = new BoundedSource<int>(new GrowingSource(new GrowingStream()), 20);

        var error = await Assert.ThrowsAsync<InvalidDataException>(async () => await source.OpenAsync(Context, position, CancellationToken.None));
        Assert.Contains("30 events were read", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_CountQuery_SetsTheCount()
    {
        Assert.True(SourceUri.TryParse("redis://127.0.0.1:7000/bids-0?count=25000", out var uri, out _));
        Assert.Equal(25_000, uri!.Count);
        Assert.Equal("bids-0", uri.Name);
        Assert.True(SourceUri.TryParse("redis://127.0.0.1:7000/bids-0", out var plain, out _));
        Assert.Null(plain!.Count);
    }

    [Theory]
    [InlineData("redis://127.0.0.1:7000/bids?count=0")]
    [InlineData("redis://127.0.0.1:7000/bids?count=-3")]
    [InlineData("redis://127.0.0.1:7000/bids?count=ten")]
    [InlineData("redis://127.0.0.1:7000/bids?from=5")]
    public void TryParse_OtherQuery_IsRefusedNamingTheForm(string text)
    {
        Assert.False(SourceUri.TryParse(text, out _, out string reason));
        Assert.Contains("?count=N", reason, StringComparison.Ordinal);
    }

    /// <summary>Reads in random-sized pieces until the source ends (true) or has nothing now (false).</summary>
    private static async Task<bool> DrainAsync(EventSource<int> source, List<int> into, Random random)
    {
        while (true)
        {
            var buffer = new int[random.Next(1, 40)];
            var read = await source.ReadAsync(buffer, CancellationToken.None);
            into.AddRange(buffer.Take(read.Count));
            if (read.IsCompleted)
            {
                return true;
            }

            if (read.Count == 0)
            {
                return false;
            }
        }
    }

    private sealed class GrowingStream
    {
        public List<int> Items { get; } = [];

        public bool Ended { get; private set; }

        public void Append(IEnumerable<int> items) => Items.AddRange(items);

        public void End() => Ended = true;
    }

    /// <summary>A followed stream: what is there now, "nothing yet" after it, the end only once the stream ended.</summary>
    private sealed class GrowingSource(GrowingStream stream) : EventSource<int>
    {
        private int _next;

        public override string Name => "memory://growing";

        public override bool CanReplay => true;

        public override ValueTask OpenAsync(SourceContext context, byte[]? position, CancellationToken cancellationToken)
        {
            _next = position is null ? 0 : BinaryPrimitives.ReadInt32LittleEndian(position);
            return ValueTask.CompletedTask;
        }

        public override ValueTask<SourceRead> ReadAsync(Memory<int> buffer, CancellationToken cancellationToken)
        {
            int n = Math.Min(buffer.Length, stream.Items.Count - _next);
            for (int i = 0; i < n; i++)
            {
                buffer.Span[i] = stream.Items[_next + i];
            }

            _next += n;
            return ValueTask.FromResult(new SourceRead(n, stream.Ended && _next == stream.Items.Count));
        }

        public override byte[] GetPosition()
        {
            var position = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(position, _next);
            return position;
        }
    }

    private sealed class NoDeadLetters : IDeadLetterSink
    {
        public void Write(DeadLetter letter) => throw new InvalidOperationException($"No dead letter expected: {letter}");
    }
}
