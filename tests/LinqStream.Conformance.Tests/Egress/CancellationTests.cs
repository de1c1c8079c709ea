using System.Reactive.Subjects;
using System.Runtime.CompilerServices;
using LinqStream.Conformance.Tests.Infrastructure;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Conformance.Tests.Egress;

/// <summary>Cancelling (or leaving) <c>ToAsyncEnumerable</c> stops the query: the sources stop being read and are released.</summary>
public sealed class CancellationTests
{
    [Fact]
    public async Task ToAsyncEnumerable_Cancelled_StopsReadingAnEndlessReplaySource()
    {
        var source = new EndlessBids();
        var query = QStream.From(source, b => b.DateTime).Where(b => b.Price > 0).Select(b => b.Price);
        using var cts = new CancellationTokenSource();
        int seen = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in query.ToAsyncEnumerable(cts.Token))
            {
                if (++seen == 1000)
                {
                    await cts.CancelAsync();
                }
            }
        });

        LiveFeeds.Eventually(() => source.Disposed, "The source's enumerator should be disposed when the query stops.");
        Assert.True(seen >= 1000);
    }

    [Fact]
    public async Task ToAsyncEnumerable_LeftEarly_StopsReadingAnEndlessReplaySource()
    {
        var source = new EndlessBids();
        var query = QStream.From(source, b => b.DateTime).Select(b => b.Price);

        await foreach (var _ in query.ToAsyncEnumerable())
        {
            break;
        }

        LiveFeeds.Eventually(() => source.Disposed, "The source's enumerator should be disposed when the consumer leaves.");
    }

    [Fact]
    public async Task ToAsyncEnumerable_Cancelled_UnsubscribesFromALiveSubject()
    {
        var subject = new Subject<Bid>();
        var bids = NexmarkData.Get(10_000, TimeSpan.Zero).Bids;
        var query = QStream.From(subject, b => b.DateTime).Select(b => b.Price);
        using var cts = new CancellationTokenSource();

        var consuming = Task.Run(async () =>
        {
            int seen = 0;
            await foreach (var _ in query.ToAsyncEnumerable(cts.Token))
            {
                seen++;
            }

            return seen;
        });
        LiveFeeds.Eventually(() => subject.HasObservers, "The query should subscribe.");
        foreach (var bid in bids.Take(100))
        {
            subject.OnNext(bid);
        }

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => consuming.WaitAsync(TimeSpan.FromSeconds(10)));
        LiveFeeds.Eventually(() => !subject.HasObservers, "The query should unsubscribe from its live source when cancelled.");
    }

    [Fact]
    public async Task ToAsyncEnumerable_Cancelled_CancelsAnAsyncSource()
    {
        var source = new EndlessAsyncBids();
        var query = QStream.From(source, b => b.DateTime).Select(b => b.Price);
        using var cts = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            int seen = 0;
            await foreach (var _ in query.ToAsyncEnumerable(cts.Token))
            {
                if (++seen == 100)
                {
                    await cts.CancelAsync();
                }
            }
        });

        LiveFeeds.Eventually(() => source.Finished, "The async source should be cancelled and finish when the query stops.");
    }

    [Fact]
    public async Task ToListAsync_LiveSourceCancelled_ThrowsOperationCanceled()
    {
        var subject = new Subject<Bid>();
        var query = QStream.From(subject, b => b.DateTime).Select(b => b.Price);
        using var cts = new CancellationTokenSource();

        var running = query.ToListAsync(cts.Token);
        LiveFeeds.Eventually(() => subject.HasObservers, "The query should subscribe.");
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(TimeSpan.FromSeconds(10)));
        LiveFeeds.Eventually(() => !subject.HasObservers, "The query should unsubscribe when cancelled.");
    }

    [Fact]
    public async Task ToListAsync_ReplaySourceCancelledWhileRunning_StopsReadingTheSource()
    {
        using var cts = new CancellationTokenSource();
        var source = new EndlessBids(limit: 2_000_000, cancelAt: (1000, cts));
        var query = QStream.From(source, b => b.DateTime).Select(b => b.Price);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => query.ToListAsync(cts.Token));

        Assert.True(source.Read < 1_000_000, $"The query read {source.Read} events after being cancelled at 1000.");
    }

    /// <summary>Bids (forever, or up to a limit), one millisecond apart, optionally cancelling a token on the way; records how many were read and whether the enumerator was disposed.</summary>
    private sealed class EndlessBids(long limit = long.MaxValue, (long At, CancellationTokenSource Source)? cancelAt = null) : IEnumerable<Bid>
    {
        private long _read;
        private volatile bool _disposed;

        public long Read => Interlocked.Read(ref _read);

        public bool Disposed => _disposed;

        public IEnumerator<Bid> GetEnumerator()
        {
            var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
            try
            {
                for (long i = 0; i < limit; i++)
                {
                    Interlocked.Increment(ref _read);
                    if (cancelAt is { } cancel && i == cancel.At)
                    {
                        cancel.Source.Cancel();
                    }

                    yield return new Bid { Auction = i % 10, Bidder = i % 7, Price = 1 + i, DateTime = start.AddTicks(i * TimeSpan.TicksPerMillisecond) };
                }
            }
            finally
            {
                _disposed = true;
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private sealed class EndlessAsyncBids : IAsyncEnumerable<Bid>
    {
        private volatile bool _finished;

        public bool Finished => _finished;

        public IAsyncEnumerator<Bid> GetAsyncEnumerator(CancellationToken cancellationToken = default) => Iterate(cancellationToken).GetAsyncEnumerator(cancellationToken);

        private async IAsyncEnumerable<Bid> Iterate([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
            try
            {
                for (long i = 0; ; i++)
                {
                    if (i % 100 == 0)
                    {
                        await Task.Yield();
                    }

                    cancellationToken.ThrowIfCancellationRequested();
                    yield return new Bid { Auction = i % 10, Price = 1 + i, DateTime = start.AddTicks(i * TimeSpan.TicksPerMillisecond) };
                }
            }
            finally
            {
                _finished = true;
            }
        }
    }
}
