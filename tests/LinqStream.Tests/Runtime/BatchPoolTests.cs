using LinqStream.Runtime;

namespace LinqStream.Tests.Runtime;

/// <summary>Issue #23: a burst's batches are given back when an operator trims the pools, and a busy pool keeps what it lends out.</summary>
public sealed class BatchPoolTests
{
    [Fact]
    public void TrimExcess_AfterABurstCameBack_KeepsOnlyAFewFreeBatches()
    {
        var pool = new BatchPool<int>(64);
        var rented = Enumerable.Range(0, 500).Select(_ => pool.Rent()).ToList();
        rented.ForEach(pool.Return);
        Assert.Equal(500, pool.FreeCount);

        pool.TrimExcess();

        Assert.Equal(BatchPool<int>.KeptWhenIdle, pool.FreeCount);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void TrimExcess_WhileManyAreLent_KeepsAsManyFreeAsAreLent()
    {
        var pool = new BatchPool<string>(64);
        var rented = Enumerable.Range(0, 300).Select(_ => pool.Rent()).ToList();
        rented.Take(200).ToList().ForEach(pool.Return);

        pool.TrimExcess();

        Assert.Equal(100, pool.Outstanding);
        Assert.Equal(100, pool.FreeCount);
        var again = pool.Rent();
        Assert.Equal(0, again.Count);
        Assert.Equal(64, again.Capacity);
    }

    [Fact]
    public void TrimPools_TrimsEveryPayloadTypesPool()
    {
        var context = new QueryContext(new QueryOptions { BatchSize = 32 });
        var ints = context.Pool<int>();
        var strings = context.Pool<string>();
        Enumerable.Range(0, 100).Select(_ => ints.Rent()).ToList().ForEach(ints.Return);
        Enumerable.Range(0, 40).Select(_ => strings.Rent()).ToList().ForEach(strings.Return);

        context.TrimPools();

        Assert.Equal(BatchPool<int>.KeptWhenIdle, ints.FreeCount);
        Assert.Equal(BatchPool<string>.KeptWhenIdle, strings.FreeCount);
    }

    [Fact]
    public void RentCopyOf_CopiesTimesPayloadsAndFilterBits_AndLeavesTheOriginal()
    {
        var pool = new BatchPool<string>(130);
        var batch = pool.Rent();
        for (int i = 0; i < 100; i++)
        {
            batch.Add(i * 10, (i * 10) + 3, "e" + i);
            if (i % 7 == 0)
            {
                batch.SetAbsent(i);
            }
        }

        var copy = pool.RentCopyOf(batch);
        Assert.NotSame(batch, copy);
        Assert.Equal(2, pool.Outstanding);
        Assert.Equal(100, copy.Count);
        Assert.Equal(batch.Start.Take(100), copy.Start.Take(100));
        Assert.Equal(batch.End.Take(100), copy.End.Take(100));
        Assert.Equal(batch.Payload.Take(100), copy.Payload.Take(100));
        Assert.Equal(Enumerable.Range(0, 100).Select(batch.IsAbsent), Enumerable.Range(0, 100).Select(copy.IsAbsent));
        Assert.Equal(100 - 15, copy.LiveCount());

        copy.SetAbsent(1);
        Assert.False(batch.IsAbsent(1)); // the copy's bits are its own
        pool.Return(copy);
        pool.Return(batch);
        Assert.Equal(0, pool.Outstanding);
    }
}
