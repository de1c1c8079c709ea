using System.Security.Cryptography;
using LinqStream.Runtime.Checkpoints;

namespace LinqStream.Tests.Runtime.Checkpoints;

/// <summary>Checkpoints are streamed into their store: sections in segments, the file written and hashed as it goes (issue #23).</summary>
public sealed class CheckpointStreamingTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "linqstream-streaming-" + Guid.NewGuid().ToString("N"));

    public CheckpointStreamingTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task SectionBuffer_WritesOfEverySize_ComeBackExactlyAndHashAsTheirBytes()
    {
        var random = new Random(23);
        var expected = new MemoryStream();
        using var section = new SectionBuffer();
        for (int i = 0; i < 400; i++)
        {
            // From single bytes to writes that span several segments (the segments grow from 4 KB to 1 MB).
            var chunk = new byte[random.Next(4) switch { 0 => 1, 1 => random.Next(1, 100), 2 => random.Next(1_000, 10_000), _ => random.Next(100_000, 1_500_000) }];
            random.NextBytes(chunk);
            if (chunk.Length == 1)
            {
                section.WriteByte(chunk[0]);
            }
            else
            {
                section.Write(chunk, 0, chunk.Length);
            }

            expected.Write(chunk);
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var copied = new MemoryStream();
        await section.CopyToAsync(copied, hash, CancellationToken.None);

        Assert.Equal(expected.Length, section.Length);
        Assert.Equal(expected.ToArray(), section.ToArray());
        Assert.Equal(expected.ToArray(), copied.ToArray());
        Assert.Equal(SHA256.HashData(expected.ToArray()), hash.GetHashAndReset());
    }

    [Fact]
    public async Task StreamedCheckpoint_IsTheSameFileAsTheArrayOne_AndReadsBack()
    {
        var random = new Random(5);
        var sections = Enumerable.Range(0, 5).Select(i =>
        {
            var data = new byte[random.Next(0, 3_000_000)];
            random.NextBytes(data);
            return ($"part {i}", data);
        }).ToList();

        byte[] whole = CheckpointFormat.Write(7, 1234, "fingerprint", sections);
        var streamed = new MemoryStream();
        long written = await CheckpointFormat.WriteAsync(streamed, 7, 1234, "fingerprint", [.. sections.Select(s => (s.Item1, Segmented(s.data)))], CancellationToken.None);

        Assert.Equal(whole, streamed.ToArray());
        Assert.Equal(whole.Length, written);
        var back = CheckpointFormat.Read(whole, "test");
        Assert.Equal(7, back.Id);
        Assert.Equal(sections.Select(s => s.Item1), back.Sections.Select(s => s.Name));
        Assert.All(sections.Zip(back.Sections), pair => Assert.Equal(pair.First.data, pair.Second.Data));
    }

    [Fact]
    public async Task DirectoryStore_StreamsIntoItsFile_AndAFailedWriteLeavesNothing()
    {
        var store = new DirectoryCheckpointStore(_directory);
        var payload = new byte[5_000_000];
        new Random(3).NextBytes(payload);

        await store.SaveAsync(1, async (stream, token) =>
        {
            // Written in pieces, as a job streams its sections.
            for (int at = 0; at < payload.Length; at += 700_000)
            {
                await stream.WriteAsync(payload.AsMemory(at, Math.Min(700_000, payload.Length - at)), token);
            }
        }, CancellationToken.None);
        Assert.Equal(payload, await store.LoadAsync(1, CancellationToken.None));

        await Assert.ThrowsAsync<IOException>(() => store.SaveAsync(2, async (stream, token) =>
        {
            await stream.WriteAsync(payload.AsMemory(0, 1000), token);
            throw new IOException("disk full");
        }, CancellationToken.None));

        Assert.Equal([1L], store.List());
        Assert.Empty(Directory.EnumerateFiles(_directory, "*.tmp"));
    }

    [Fact]
    public async Task AStoreThatOnlyTakesArrays_StillGetsTheWholeCheckpoint()
    {
        var store = new ArrayOnlyStore();
        await store.SaveAsync(4, (stream, token) => stream.WriteAsync(new byte[] { 1, 2, 3 }, token).AsTask(), CancellationToken.None);

        Assert.Equal([1, 2, 3], store.Saved[4]);
    }

    private static SectionBuffer Segmented(byte[] data)
    {
        var buffer = new SectionBuffer();
        for (int at = 0; at < data.Length; at += 10_007)
        {
            buffer.Write(data.AsSpan(at, Math.Min(10_007, data.Length - at)));
        }

        return buffer;
    }

    private sealed class ArrayOnlyStore : CheckpointStore
    {
        public Dictionary<long, byte[]> Saved { get; } = [];

        public override Task SaveAsync(long id, ReadOnlyMemory<byte> checkpoint, CancellationToken cancellationToken)
        {
            Saved[id] = checkpoint.ToArray();
            return Task.CompletedTask;
        }

        public override IReadOnlyList<long> List() => [.. Saved.Keys];

        public override Task<byte[]> LoadAsync(long id, CancellationToken cancellationToken) => Task.FromResult(Saved[id]);

        public override string Describe(long id) => $"checkpoint {id}";
    }
}
