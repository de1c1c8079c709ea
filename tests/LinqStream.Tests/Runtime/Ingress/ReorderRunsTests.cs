using LinqStream.Runtime.Ingress;

namespace LinqStream.Tests.Runtime.Ingress;

/// <summary>The reorder buffer's runs against a plain reference: every held event sorted by (start, arrival), taken below a limit.</summary>
public sealed class ReorderRunsTests
{
    [Theory]
    [InlineData(1, 1_000, 3)] // many ties: starts from a range of 3 per batch window
    [InlineData(2, 100_000, 1)] // batches of 1 to 200 events: small ones go to the queue of single events, large ones become runs
    [InlineData(3, 1_000, 4_096)]
    [InlineData(4, 50, 2_048)] // runs of exactly equal starts interleaved with single events
    public void TakeBefore_RandomBatchesAndLimits_GivesTheReferenceOrder(int seed, int span, int maxBatch)
    {
        var random = new Random(seed);
        var runs = new ReorderRuns<int>();
        var held = new List<(long Start, long End, long Sequence, int Payload)>();
        long sequence = 0, limit = long.MinValue, clock = 0;
        for (int round = 0; round < 600; round++)
        {
            if (round == 300)
            {
                // A second pass on the same buffer after Release (its runs' arrays back in the shared pool, made dirty here).
                runs.Release();
                Assert.Equal(0, runs.Count);
                Assert.Empty(runs.Items());
                held.Clear();
                PoolPoison.Dirty(random, 1 << 13);
            }

            // A batch in arrival order: starts anywhere from the current limit to span ahead, sometimes sorted, sometimes huge values.
            int size = random.Next(0, Math.Min(maxBatch, random.Next(2) == 0 ? 63 : 200) + 1);
            clock += random.Next(0, span / 4 + 1);
            var starts = new List<long>();
            for (int i = 0; i < size; i++)
            {
                starts.Add(random.Next(8) == 0 ? long.MaxValue - random.Next(3) : clock + random.Next(0, span));
            }

            if (random.Next(4) == 0)
            {
                starts = [.. starts.Order()]; // already in order: no sort, but the same merge
            }

            // Sequences in arrival order, as the ingress numbers events; the payload names the event.
            var batch = starts.Select(start => (Start: start, End: start + random.Next(1, 5), Sequence: sequence, Payload: (int)sequence++)).ToList();
            for (int i = 0; i < batch.Count; i++)
            {
                var (start, end, seq, payload) = batch[i];
                runs.Add(start, end, seq, payload);
            }

            runs.Seal();
            held.AddRange(batch);
            Assert.Equal(held.Count, runs.Count);
            Assert.Equal(
                held.OrderBy(e => e.Sequence),
                runs.Items().OrderBy(e => e.Sequence));

            // Take everything below a limit that moves on (sometimes not at all, sometimes to the end of time).
            limit = random.Next(10) == 0 ? long.MaxValue : Math.Max(limit, clock + random.Next(-span, span));
            var expected = held.Where(e => e.Start < limit).OrderBy(e => e.Start).ThenBy(e => e.Sequence).ToList();
            var taken = new List<(long Start, long End, long Sequence, int Payload)>();
            while (runs.TryTakeBefore(limit, out long start, out long end, out int payload))
            {
                taken.Add((start, end, payload, payload));
            }

            Assert.Equal(expected, taken);
            held.RemoveAll(e => e.Start < limit);
            Assert.Equal(held.Count, runs.Count);
        }
    }

    [Fact]
    public void TakeBefore_Empty_TakesNothing()
    {
        var runs = new ReorderRuns<string>();
        runs.Seal();
        Assert.False(runs.TryTakeBefore(long.MaxValue, out _, out _, out _));
        Assert.Equal(0, runs.Count);
    }

    [Fact]
    public void TakeBefore_TiesAcrossARunAndTheQueue_KeepArrivalOrder()
    {
        var runs = new ReorderRuns<string>();
        runs.Add(5, 6, 0, "single-0");
        runs.Seal(); // one event: the queue
        for (int i = 0; i < ReorderRuns<string>.SmallRun; i++)
        {
            runs.Add(5, 6, 1 + i, "run-" + i);
        }

        runs.Seal(); // a run of equal starts
        runs.Add(5, 6, 1 + ReorderRuns<string>.SmallRun, "single-1");
        runs.Seal();

        var taken = new List<string>();
        while (runs.TryTakeBefore(6, out _, out _, out string payload))
        {
            taken.Add(payload);
        }

        Assert.Equal(["single-0", .. Enumerable.Range(0, ReorderRuns<string>.SmallRun).Select(i => "run-" + i), "single-1"], taken);
    }
}
