using System.Reactive.Linq;

namespace LinqStream;

/// <summary>An event-time stream query: an <see cref="IQbservable{T}"/> whose expression LinqStream translates into a streaming plan.</summary>
/// <typeparam name="T">The payload type.</typeparam>
/// <remarks>Nothing runs until <c>Subscribe</c>; a query that cannot run as a stream fails there with a <see cref="QueryTranslationException"/>.</remarks>
public interface IQStream<out T> : IQbservable<T>
{
}

/// <summary>A stream whose events live for their window (after <c>TumblingWindow</c>, <c>HoppingWindow</c> or <c>SessionWindow</c>).</summary>
/// <typeparam name="T">The payload type.</typeparam>
/// <remarks>
/// <c>GroupBy(key)</c> then <c>Select(g =&gt; ...)</c> aggregates per key and window; <c>Select(w =&gt; ...)</c> aggregates each whole window;
/// a join of two windowed streams with the same window matches events in the same window.
/// </remarks>
public interface IQWindowedStream<out T> : IQStream<T>
{
}
