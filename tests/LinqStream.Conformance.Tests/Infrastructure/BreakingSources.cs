using System.Collections;

namespace LinqStream.Conformance.Tests.Infrastructure;

/// <summary>A source that records and refuses enumeration: building or translating a query must not touch its sources.</summary>
public sealed class BreakingEnumerable<T> : IEnumerable<T>
{
    private int _touches;

    public int Touches => Volatile.Read(ref _touches);

    public IEnumerator<T> GetEnumerator()
    {
        Interlocked.Increment(ref _touches);
        throw new InvalidOperationException("The source was enumerated.");
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A live source that records and refuses subscription.</summary>
public sealed class BreakingObservable<T> : IObservable<T>
{
    private int _touches;

    public int Touches => Volatile.Read(ref _touches);

    public IDisposable Subscribe(IObserver<T> observer)
    {
        Interlocked.Increment(ref _touches);
        throw new InvalidOperationException("The source was subscribed to.");
    }
}

/// <summary>An async source that records and refuses enumeration.</summary>
public sealed class BreakingAsyncEnumerable<T> : IAsyncEnumerable<T>
{
    private int _touches;

    public int Touches => Volatile.Read(ref _touches);

    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _touches);
        throw new InvalidOperationException("The source was enumerated.");
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
