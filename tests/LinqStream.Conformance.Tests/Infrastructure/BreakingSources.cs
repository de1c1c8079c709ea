using System.Collections;

namespace LinqStream.Conformance.Tests.Infrastructure;

/// <summary>A source that fails the test if anything enumerates it: building or translating a query must not touch its sources.</summary>
public sealed class BreakingEnumerable<T> : IEnumerable<T>
{
    public IEnumerator<T> GetEnumerator() => throw new InvalidOperationException("The source was enumerated.");

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A source that fails the test if anything subscribes to it.</summary>
public sealed class BreakingObservable<T> : IObservable<T>
{
    public int Subscriptions { get; private set; }

    public IDisposable Subscribe(IObserver<T> observer)
    {
        Subscriptions++;
        throw new InvalidOperationException("The source was subscribed to.");
    }
}

/// <summary>A replayable source that counts how often it is enumerated (a lazy sequence, not an array, so each read is visible).</summary>
public sealed class CountingEnumerable<T>(IReadOnlyList<T> items) : IEnumerable<T>
{
    private int _enumerations;

    public int Enumerations => Volatile.Read(ref _enumerations);

    public IEnumerator<T> GetEnumerator()
    {
        Interlocked.Increment(ref _enumerations);
        return Iterate();
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private IEnumerator<T> Iterate()
    {
        foreach (var item in items)
        {
            yield return item;
        }
    }
}
