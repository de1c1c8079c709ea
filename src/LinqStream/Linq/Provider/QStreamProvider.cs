using System.Linq.Expressions;
using System.Reactive.Linq;

namespace LinqStream.Linq.Provider;

/// <summary>The provider behind every <see cref="IQStream{T}"/>: it builds query objects; translation happens at <c>Subscribe</c>.</summary>
internal sealed class QStreamProvider : IQbservableProvider
{
    public static QStreamProvider Instance { get; } = new();

    public IQbservable<TResult> CreateQuery<TResult>(Expression expression)
    {
        Internal.QuerySites.Record(expression);
        return new QStreamQuery<TResult>(expression);
    }

    public static IQStream<T> Stream<T>(Expression expression)
    {
        Internal.QuerySites.Record(expression);
        return new QStreamQuery<T>(expression);
    }

    public static IQWindowedStream<T> Windowed<T>(Expression expression)
    {
        Internal.QuerySites.Record(expression);
        return new QStreamQuery<T>(expression);
    }
}
