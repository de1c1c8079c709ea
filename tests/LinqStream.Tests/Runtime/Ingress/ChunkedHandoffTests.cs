using LinqStream.Runtime.Ingress;

namespace LinqStream.Tests.Runtime.Ingress;

/// <summary>The live-ingress handoff: whole chunks, every event exactly once and in order, partial chunks flushed, bounded.</summary>
public sealed class ChunkedHandoffTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(1024)]
    public async Task ProducerWithPauses_EveryEventOnceInOrder(int chunkSize)
    {
        // The producer pauses at random, so the flush timer publishes partial chunks in between the producer's full ones.
        using var cancellation = new CancellationTokenSource(Bound);
        using var handoff = new ChunkedHandoff<long>(chunkSize, 4, cancellation.Token);
        const int Events = 200_000;
        var producer = Task.Run(() =>
        {
            var random = new Random(16);
            for (long i = 0; i < Events; i++)
            {
                handoff.Write(i);
                if (random.Next(20_000) == 0)
                {
                    Thread.Sleep(3);
                }
            }

            handoff.Complete();
        });

        var received = new List<long>(Events);
        int partial = 0;
        await foreach (var segment in handoff.Reader.ReadAllAsync(cancellation.Token))
        {
            Assert.InRange(segment.Count, 1, chunkSize);
            partial += segment.Count < chunkSize ? 1 : 0;
            for (int i = 0; i < segment.Count; i++)
            {
                received.Add(segment.Items[segment.Offset + i]);
            }

            handoff.Return(segment);
        }

        await producer.WaitAsync(cancellation.Token);
        Assert.Equal(Enumerable.Range(0, Events).Select(i => (long)i), received);
        if (chunkSize > 1)
        {
            Assert.True(partial > 0, "the pauses should have let the timer publish partial chunks");
        }
    }

    [Fact]
    public async Task IdleProducer_ItsPartialChunkIsPublishedWithoutCompletion()
    {
        using var cancellation = new CancellationTokenSource(Bound);
        using var handoff = new ChunkedHandoff<int>(1024, 4, cancellation.Token);

        handoff.Write(41);
        handoff.Write(42);

        // Nothing completes the chunk: only the flush timer can publish it.
        var segment = await handoff.Reader.ReadAsync(cancellation.Token);
        Assert.Equal([41, 42], segment.Items.Skip(segment.Offset).Take(segment.Count));

        handoff.Write(43);
        handoff.Complete();
        var rest = new List<int>();
        await foreach (var s in handoff.Reader.ReadAllAsync(cancellation.Token))
        {
            rest.AddRange(s.Items.Skip(s.Offset).Take(s.Count));
        }

        Assert.Equal([43], rest);
    }

    [Fact]
    public async Task SlowQuery_HoldsTheProducerAtTheCapacity()
    {
        using var cancellation = new CancellationTokenSource(Bound);
        using var handoff = new ChunkedHandoff<int>(16, 2, cancellation.Token);
        long written = 0;
        var producer = Task.Run(() =>
        {
            for (int i = 0; i < 100_000; i++)
            {
                handoff.Write(i);
                Interlocked.Increment(ref written);
            }

            handoff.Complete();
        });

        // Nobody reads: the producer stops once 2 chunks wait (full ones, or partial ones the timer published) and it has
        // filled the next. Wait until it has written something and then until its count stops moving.
        while (Interlocked.Read(ref written) < 16)
        {
            await Task.Delay(10, cancellation.Token);
        }

        long heldAt = Interlocked.Read(ref written), previous;
        do
        {
            previous = heldAt;
            await Task.Delay(100, cancellation.Token);
            heldAt = Interlocked.Read(ref written);
        }
        while (heldAt != previous);

        Assert.InRange(heldAt, 16, 3 * 16);
        Assert.False(producer.IsCompleted);

        // Reading releases it; everything arrives.
        long sum = 0, count = 0;
        await foreach (var segment in handoff.Reader.ReadAllAsync(cancellation.Token))
        {
            for (int i = 0; i < segment.Count; i++)
            {
                sum += segment.Items[segment.Offset + i];
                count++;
            }

            handoff.Return(segment);
        }

        await producer.WaitAsync(cancellation.Token);
        Assert.Equal(100_000, count);
        Assert.Equal(100_000L * 99_999 / 2, sum);
    }

    [Fact]
    public async Task ProducerError_AfterItsEvents_FaultsTheReader()
    {
        using var cancellation = new CancellationTokenSource(Bound);
        using var handoff = new ChunkedHandoff<int>(8, 4, cancellation.Token);
        for (int i = 0; i < 20; i++)
        {
            handoff.Write(i);
        }

        handoff.Complete(new InvalidOperationException("feed broke"));

        var received = new List<int>();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (var segment in handoff.Reader.ReadAllAsync(cancellation.Token))
            {
                received.AddRange(segment.Items.Skip(segment.Offset).Take(segment.Count));
            }
        });

        Assert.Equal("feed broke", error.Message);
        Assert.Equal(Enumerable.Range(0, 20), received);
    }

    [Fact]
    public async Task QueryStopped_ABlockedProducerGoesOn()
    {
        using var cancellation = new CancellationTokenSource(Bound);
        var handoff = new ChunkedHandoff<int>(4, 2, cancellation.Token);
        var producer = Task.Run(() =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                handoff.Write(i); // blocks after a few chunks: nobody reads
            }
        });

        await Task.Delay(100);
        handoff.Dispose();

        await producer.WaitAsync(cancellation.Token); // returns: its writes after the stop go nowhere
    }
}
