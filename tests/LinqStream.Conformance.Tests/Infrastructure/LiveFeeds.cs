using System.Reactive.Subjects;
using System.Runtime.CompilerServices;

namespace LinqStream.Conformance.Tests.Infrastructure;

/// <summary>Live versions of a data set: a <see cref="Subject{T}"/> fed from another thread, and an async sequence.</summary>
public static class LiveFeeds
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Pushes <paramref name="items"/> into <paramref name="subject"/> from a thread of its own, once the query has subscribed
    /// (a <see cref="Subject{T}"/> drops what it gets before that), then completes it.
    /// </summary>
    public static Task PushWhenSubscribedAsync<T>(Subject<T> subject, IReadOnlyList<T> items) =>
        Task.Factory.StartNew(
            () =>
            {
                Assert.True(SpinWait.SpinUntil(() => subject.HasObservers, Patience), "The query never subscribed to the subject.");
                foreach (var item in items)
                {
                    subject.OnNext(item);
                }

                subject.OnCompleted();
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

    /// <summary>An async sequence that yields to the scheduler every <paramref name="chunk"/> items, as a network reader would.</summary>
    public static async IAsyncEnumerable<T> Async<T>(IReadOnlyList<T> items, int chunk = 500, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (int i = 0; i < items.Count; i++)
        {
            if (i % chunk == 0)
            {
                await Task.Yield();
                cancellationToken.ThrowIfCancellationRequested();
            }

            yield return items[i];
        }
    }

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds: for effects that happen on the query's own threads.</summary>
    public static void Eventually(Func<bool> condition, string because) => Assert.True(SpinWait.SpinUntil(condition, Patience), because);
}
