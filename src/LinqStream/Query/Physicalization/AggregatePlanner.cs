using System.Linq.Expressions;
using LinqStream.Internal;
using LinqStream.Physical.Aggregate;
using LinqStream.Physical.Kernels;
using LinqStream.Plan;

namespace LinqStream.Query.Physicalization;

/// <summary>
/// Physical planning of a window aggregate: maps each aggregate translation recognised (<see cref="AggregateCall"/>) to its
/// incremental column, and the result shape to <c>(key, windowStart, windowEnd, slot) =&gt; result</c> reading those columns.
/// </summary>
/// <remarks>Recognises nothing and refuses nothing: both happened in translation (Query/Translation/AggregateRecognizer.cs).</remarks>
internal static class AggregatePlanner
{
    /// <summary>Builds a fresh plan (new columns, so new state) for one operator of the aggregate.</summary>
    public static AggregatePlan<T, TKey, TResult> Build<T, TKey, TResult>(WindowAggregates aggregates, KernelCompiler kernels)
    {
        var result = aggregates.Result;
        var slot = Expression.Parameter(typeof(int), "slot");
        var columns = new List<AggregateColumn<T>>(aggregates.Calls.Count);
        var reads = new Dictionary<ParameterExpression, Expression>(aggregates.Calls.Count);

        // The result kernel's recipe: the result lambda, then each aggregate's placeholder (its ordinal in the result) and its read
        // (the column's method, conversions, a TopK projection, a fold's result selector; the column is a lifted constant).
        var parts = new Expression[1 + (2 * aggregates.Calls.Count)];
        parts[0] = result;
        foreach (var call in aggregates.Calls)
        {
            var (column, read) = Map<T, TKey>(call, result.Parameters[0], result.Parameters[1], result.Parameters[2], slot, kernels);
            parts[1 + (2 * columns.Count)] = call.Placeholder;
            parts[2 + (2 * columns.Count)] = read;
            columns.Add(column);
            reads.Add(call.Placeholder, read);
        }

        Expression<Func<TKey, long, long, int, TResult>>? lambda = null;
        Expression<Func<TKey, long, long, int, TResult>> Lambda()
        {
            if (lambda is null)
            {
                var body = new PlaceholderReplacer(reads).Visit(result.Body);
                if (body.Type != typeof(TResult))
                {
                    body = Expression.Convert(body, typeof(TResult));
                }

                lambda = Expression.Lambda<Func<TKey, long, long, int, TResult>>(body, result.Parameters[0], result.Parameters[1], result.Parameters[2], slot);
            }

            return lambda;
        }

        return new AggregatePlan<T, TKey, TResult>
        {
            Columns = [.. columns],
            Result = kernels.Compile(new KernelRecipe(nameof(AggregatePlanner), 0, parts), Lambda),
            ResultExpression = new(Lambda),
            BufferReason = aggregates.BufferReason,
        };
    }

    /// <summary>The column of one aggregate and the expression that reads its value for a slot, typed as the placeholder it replaces.</summary>
    private static (AggregateColumn<T> Column, Expression Read) Map<T, TKey>(
        AggregateCall call, ParameterExpression key, ParameterExpression start, ParameterExpression end, ParameterExpression slot, KernelCompiler kernels)
    {
        var input = new AggregateInput(call.Filter, call.Value);
        var type = call.Placeholder.Type;
        switch (call.Kind)
        {
            case AggregateKind.Count:
                {
                    var count = new CountColumn<T>(call.Description, input, kernels);
                    return (count, Read(count, "Result", slot, type));
                }

            case AggregateKind.Any or AggregateKind.All:
                {
                    var count = new CountColumn<T>(call.Description, input, kernels);
                    var read = Expression.Call(Expression.Constant(count), nameof(CountColumn<T>.Result), null, slot);
                    return (count, call.Kind == AggregateKind.All ? Expression.Equal(read, Expression.Constant(0L)) : Expression.GreaterThan(read, Expression.Constant(0L)));
                }

            case AggregateKind.DistinctCount:
                {
                    var column = AggregateColumnFactory<T>.DistinctCount(call.Value!.ReturnType, call.Description, input, kernels);
                    return (column, Read(column, "Result", slot, type));
                }

            case AggregateKind.Min or AggregateKind.Max:
                {
                    var column = AggregateColumnFactory<T>.MinMax(call.Value!.ReturnType, call.Description, input, call.Kind == AggregateKind.Max, kernels);
                    return (column, Read(column, "Result", slot, type));
                }

            case AggregateKind.Sum or AggregateKind.Average:
                {
                    var v = call.Value!.ReturnType;
                    bool average = call.Kind == AggregateKind.Average;
                    string suffix = average && call.SkipsNulls ? "OrNull" : string.Empty;
                    if (v == typeof(int) || v == typeof(long))
                    {
                        var column = AggregateColumnFactory<T>.IntegerSum(v, call.Description, input, average, kernels);
                        return (column, Read(column, average ? "ResultDouble" + suffix : "Result", slot, type));
                    }

                    var acc = v == typeof(decimal) ? typeof(decimal) : typeof(double);
                    var sum = AggregateColumnFactory<T>.OrderedSum(v, acc, call.Description, input, average, kernels);
                    string method = !average ? (v == typeof(float) ? "ResultSingle" : "Result")
                        : "ResultAverage" + (v == typeof(decimal) ? "Decimal" : v == typeof(float) ? "Single" : "Double") + suffix;
                    return (sum, Read(sum, method, slot, type));
                }

            case AggregateKind.TopK:
                {
                    object? comparer = call.KeyDirections is { } directions ? AggregateColumnFactory<T>.CompositeComparer(call.Value!.ReturnType, [.. directions]) : null;
                    var column = AggregateColumnFactory<T>.TopK(call.Value!.ReturnType, call.Description, input, call.K, call.Descending, comparer, kernels);
                    Expression read = Expression.Call(Expression.Constant(column), "Result", null, slot);
                    if (call.Projection is { } projection)
                    {
                        read = Expression.Call(typeof(Enumerable), nameof(Enumerable.Select), [typeof(T), projection.ReturnType], read, projection);
                    }

                    return (column, read.Type == type ? read : Expression.Convert(read, type));
                }

            case AggregateKind.MinBy or AggregateKind.MaxBy:
                {
                    var column = AggregateColumnFactory<T>.TopK(call.Value!.ReturnType, call.Description, input, call.K, call.Descending, null, kernels);
                    var read = Expression.Call(Expression.Constant(column), "Result", null, slot);
                    string pick = typeof(T).IsValueType ? nameof(Enumerable.First) : nameof(Enumerable.FirstOrDefault);
                    return (column, Expression.Call(typeof(Enumerable), pick, [typeof(T)], read));
                }

            case AggregateKind.Fold:
                {
                    var column = AggregateColumnFactory<T>.Fold(call.Value!.ReturnType, call.Func!.Parameters[0].Type, call.Description, input, call.Seed, call.Func, kernels);
                    Expression read = Expression.Call(Expression.Constant(column), "Result", null, slot);
                    if (call.ResultSelector is { } selector)
                    {
                        read = LambdaInliner.Inline(selector, read);
                    }

                    return (column, read.Type == type ? read : Expression.Convert(read, type));
                }

            case AggregateKind.User:
                {
                    var types = call.InstanceTypes!;
                    var column = AggregateColumnFactory<T>.User([types[0], types[1], types[2], call.Instance!.GetType()], call.Description, input, call.Instance, kernels);
                    return (column, Read(column, "Result", slot, type));
                }

            case AggregateKind.Buffer:
                {
                    var buffer = new BufferColumn<T>(call.Description);
                    var group = Expression.Call(Expression.Constant(buffer), nameof(BufferColumn<T>.Group), [typeof(TKey)], key, start, end, slot);
                    return (buffer, Expression.Convert(group, type));
                }

            default:
                throw new InvalidOperationException($"No column for the aggregate kind '{call.Kind}'.");
        }
    }

    private static Expression Read<T>(AggregateColumn<T> column, string method, ParameterExpression slot, Type type)
    {
        Expression read = Expression.Call(Expression.Constant(column), method, null, slot);
        return read.Type == type ? read : Expression.ConvertChecked(read, type);
    }

    /// <summary>Puts each aggregate's read where translation left its placeholder.</summary>
    private sealed class PlaceholderReplacer(Dictionary<ParameterExpression, Expression> reads) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => reads.TryGetValue(node, out var read) ? read : node;
    }
}
