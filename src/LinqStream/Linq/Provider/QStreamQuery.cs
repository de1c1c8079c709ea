using System.Linq.Expressions;
using System.Reactive.Linq;
using LinqStream.Query;
using LinqStream.Runtime;
using LinqStream.Runtime.Egress;

namespace LinqStream.Linq.Provider;

/// <summary>A query expression and the means to run it.</summary>
internal sealed class QStreamQuery<T> : IQWindowedStream<T>
{
    public QStreamQuery(Expression expression) => Expression = expression;

    public Type ElementType => typeof(T);

    public Expression Expression { get; }

    public IQbservableProvider Provider => QStreamProvider.Instance;

    public IDisposable Subscribe(IObserver<T> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        TerminalObserverGuard.Check(observer);
        var compiled = QueryCompiler.Compile<T>(Expression);
        var execution = QueryExecution.Create(compiled.Root, c => new ObserverSink<T>(observer, c), compiled.Options, parallel: compiled.Parallel);
        return Start(execution, CancellationToken.None);
    }

    /// <summary>Runs replay-only queries inline (as Rx does for an enumerable turned observable) and live ones on a task.</summary>
    internal static IDisposable Start(QueryExecution execution, CancellationToken cancellationToken)
    {
        if (!execution.IsLive)
        {
            execution.Run();
            return new Subscription(execution);
        }

        _ = Task.Run(() => execution.RunAsync(cancellationToken), CancellationToken.None);
        return new Subscription(execution);
    }

    public override string ToString() => Expression.ToString();

    private sealed class Subscription(QueryExecution execution) : IDisposable
    {
        public void Dispose() => execution.Stop();
    }
}
