using System.Buffers.Binary;

namespace LinqStream.Tests.Runtime.Ingress;

/// <summary>
/// A live query stopped while its runner waits for a source that has nothing to give ends at once. The hang these tests pin down
/// (CI of 2026-12-06, <c>PartitionTests.From_IdlePartitionWithTimeout_StopsHoldingTheWatermarkBack</c>, one run in six locally):
/// a consumer that broke out of <c>ToAsyncEnumerable</c> stopped the query first, which disposed the sources; an
/// <see cref="EventSource{T}"/>'s reader dropped the runner's pending wait with its cancellation registration, and the cancel that
/// followed found nothing left to wake, so the runner, and the consumer's <c>await foreach</c> with it, waited forever.
/// </summary>
public sealed class StopWhileWaitingTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(2, true)]
    [InlineData(3, true)]
    public async Task ToAsyncEnumerable_ConsumerBreaksWhileTheRunnerWaits_EndsWithEveryResultSoFar(int partitions, bool idleTimeout)
    {
        var sources = Enumerable.Range(0, partitions).Select(p => new SilentAfterSource($"p{p}", p == 0 ? 50 : p * 7)).ToArray();
        var query = Query(sources, idleTimeout);
        var expected = Expected(sources);
        var seen = new List<long>();

        var consume = Task.Run(async () =>
        {
            await foreach (long value in query.ToAsyncEnumerable())
            {
                seen.Add(value);
                // One source gives every result (a stateless query); several are merged in event time, and a partition that has
                // gone silent holds back the others' later events (without an idle timeout, or once every partition is idle).
                if (seen.Count == (partitions == 1 ? expected.Count : 1))
                {
                    // Every source is now silent: wait until each has been asked again and the runner parked on them, then leave.
                    await Task.WhenAll(sources.Select(s => s.Silent)).WaitAsync(Limit);
                    await Task.Delay(100);
                    break;
                }
            }
        });

        await consume.WaitAsync(Limit); // before the fix: TimeoutException (the enumerator's DisposeAsync never returned)
        if (partitions == 1)
        {
            Assert.Equal(expected, seen.Order());
        }
        else
        {
            var left = expected.ToList();
            Assert.All(seen, value => Assert.True(left.Remove(value), $"{value} is not a result of the reference (or came twice)"));
        }

        Assert.All(sources, s => Assert.True(s.Disposed, $"{s.Name} was not disposed"));
    }

    [Theory]
    [InlineData("async enumerable")]
    [InlineData("observable")]
    public async Task ToAsyncEnumerable_OtherLiveSources_ConsumerBreaksWhileTheRunnerWaits_Ends(string kind)
    {
        var events = new SilentAfterSource("p0", 40).Events;
        var silent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var disposed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var input = kind == "observable"
            ? QStream.From(new SilentAfterObservable(events, silent, disposed), e => e.Time, IngressPolicy.Adjust)
            : QStream.From(SilentAfter(events, silent, disposed, CancellationToken.None), e => e.Time, IngressPolicy.Adjust);
        var query = input.Where(e => e.Value % 3 != 1).Select(e => e.Value * 2);
        var expected = events.Where(e => e.Value % 3 != 1).Select(e => e.Value * 2).Order().ToList();
        var seen = new List<long>();

        var consume = Task.Run(async () =>
        {
            await foreach (long value in query.ToAsyncEnumerable())
            {
                seen.Add(value);
                if (seen.Count == expected.Count)
                {
                    await silent.Task.WaitAsync(Limit);
                    await Task.Delay(100);
                    break;
                }
            }
        });

        await consume.WaitAsync(Limit);
        Assert.Equal(expected, seen.Order());
        await disposed.Task.WaitAsync(Limit); // the source was let go (its enumeration cancelled, its subscription disposed)
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    public async Task ToListAsync_CancelledWhileTheRunnerWaits_EndsCancelled(int partitions, bool idleTimeout)
    {
        var sources = Enumerable.Range(0, partitions).Select(p => new SilentAfterSource($"p{p}", 20 + p)).ToArray();
        using var stop = new CancellationTokenSource();
        var run = Query(sources, idleTimeout).ToListAsync(stop.Token);
        await Task.WhenAll(sources.Select(s => s.Silent)).WaitAsync(Limit);
        await Task.Delay(100);

        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Limit));
        Assert.All(sources, s => Assert.True(s.Disposed, $"{s.Name} was not disposed"));
    }

    [Fact]
    public async Task Subscribe_DisposedWhileTheRunnerWaits_DisposesTheSource()
    {
        var source = new SilentAfterSource("p0", 30);
        int expected = Expected([source]).Count;
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int count = 0;
        var subscription = Query([source], idleTimeout: false).Subscribe(new CountingObserver(() =>
        {
            if (Interlocked.Increment(ref count) == expected)
            {
                received.TrySetResult();
            }
        }));
        await received.Task.WaitAsync(Limit);
        await source.Silent.WaitAsync(Limit);
        await Task.Delay(100);

        subscription.Dispose();

        await source.DisposedTask.WaitAsync(Limit);
        Assert.Equal(expected, Volatile.Read(ref count));
    }

    private static IQStream<long> Query(SilentAfterSource[] sources, bool idleTimeout)
    {
        var input = sources.Length == 1
            ? QStream.From(sources[0], e => e.Time, IngressPolicy.Adjust)
            : QStream.From([.. sources.Cast<EventSource<Event>>()], e => e.Time, IngressPolicy.Adjust, idleTimeout ? TimeSpan.FromMilliseconds(50) : null);
        return input.Where(e => e.Value % 3 != 1).Select(e => e.Value * 2);
    }

    /// <summary>LINQ to objects over every event the sources give.</summary>
    private static List<long> Expected(SilentAfterSource[] sources) =>
        [.. sources.SelectMany(s => s.Events).Where(e => e.Value % 3 != 1).Select(e => e.Value * 2).Order()];

    public sealed record Event(long Time, long Value);

    private sealed class CountingObserver(Action onNext) : IObserver<long>
    {
        public void OnCompleted()
        {
        }

        public void OnError(Exception error) => throw new InvalidOperationException("The query failed.", error);

        public void OnNext(long value) => onNext();
    }

    private static async IAsyncEnumerable<Event> SilentAfter(
        Event[] events, TaskCompletionSource silent, TaskCompletionSource disposed, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        try
        {
            foreach (var e in events)
            {
                yield return e;
            }

            silent.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        finally
        {
            disposed.TrySetResult();
        }
    }

    /// <summary>Pushes its events when subscribed, then nothing (it never completes).</summary>
    private sealed class SilentAfterObservable(Event[] events, TaskCompletionSource silent, TaskCompletionSource disposed) : IObservable<Event>
    {
        public IDisposable Subscribe(IObserver<Event> observer)
        {
            foreach (var e in events)
            {
                observer.OnNext(e);
            }

            silent.TrySetResult();
            return new Subscription(disposed);
        }

        private sealed class Subscription(TaskCompletionSource disposed) : IDisposable
        {
            public void Dispose() => disposed.TrySetResult();
        }
    }

    /// <summary>Gives its events in one read, then has nothing more: each later read waits until it is cancelled.</summary>
    private sealed class SilentAfterSource(string name, int count) : EventSource<Event>
    {
        private readonly TaskCompletionSource _silent = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _next;

        // Ties, huge values and times near the ends of the range (the query is stateless: nothing waits for a watermark).
        public Event[] Events { get; } = [.. Enumerable.Range(0, count).Select(i => new Event(
            1_000 + (i / 3), i % 5 == 4 ? long.MaxValue / 4 - i : (name[1] * 1_000L) + i))];

        public override string Name { get; } = name;

        public override bool CanReplay => true;

        public Task Silent => _silent.Task;

        public Task DisposedTask => _disposed.Task;

        public bool Disposed => _disposed.Task.IsCompleted;

        public override ValueTask OpenAsync(SourceContext context, byte[]? position, CancellationToken cancellationToken)
        {
            _next = position is null ? 0 : BinaryPrimitives.ReadInt32LittleEndian(position);
            return ValueTask.CompletedTask;
        }

        public override async ValueTask<SourceRead> ReadAsync(Memory<Event> buffer, CancellationToken cancellationToken)
        {
            if (_next < Events.Length)
            {
                int n = Math.Min(buffer.Length, Events.Length - _next);
                Events.AsSpan(_next, n).CopyTo(buffer.Span);
                _next += n;
                return new SourceRead(n, false);
            }

            _silent.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            return SourceRead.Idle;
        }

        public override byte[] GetPosition()
        {
            var position = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(position, _next);
            return position;
        }

        public override ValueTask DisposeAsync()
        {
            _disposed.TrySetResult();
            return base.DisposeAsync();
        }
    }
}
