using System.Linq.Expressions;
using LinqStream.Physical.Aggregate;
using LinqStream.Physical.Kernels;
using LinqStream.Physical.Windows;
using LinqStream.Plan;
using LinqStream.Query.Physicalization;
using LinqStream.Query.Translation;
using LinqStream.Runtime;
using LinqStream.Temporal;

namespace LinqStream.Tests.Infrastructure;

/// <summary>Builds a window aggregate's physical parts from a selector the way the compiler does: recognition (translation), then column mapping (physical planning).</summary>
internal static class AggregatePlans
{
    /// <summary>Translation's recognition of <paramref name="selector"/>; throws the translation error when it refuses it.</summary>
    public static WindowAggregates Recognise<T, TKey>(LambdaExpression selector, bool strict)
    {
        var failures = new List<(string Operator, string Reason)>();
        var aggregates = AggregateRecognizer.Recognize(selector, typeof(T), typeof(TKey), strict, failures);
        return failures.Count == 0 ? aggregates : throw Internal.Error.TranslationFailed(selector, failures);
    }

    public static AggregatePlan<T, TKey, TResult> Plan<T, TKey, TResult>(LambdaExpression selector, bool strict = true) =>
        AggregatePlanner.Build<T, TKey, TResult>(Recognise<T, TKey>(selector, strict), KernelCompiler.Shared);

    public static WindowAggregateStream<T, TKey, TResult> Stream<T, TKey, TResult>(PhysicalStream<T> source, WindowSpec window, LambdaExpression? key, LambdaExpression selector, bool strict)
        where TKey : notnull
    {
        var aggregates = Recognise<T, TKey>(selector, strict);
        return new WindowAggregateStream<T, TKey, TResult>(
            source, window, key, selector, aggregates.ToString(), aggregates.BufferReason, () => AggregatePlanner.Build<T, TKey, TResult>(aggregates, KernelCompiler.Shared));
    }
}
