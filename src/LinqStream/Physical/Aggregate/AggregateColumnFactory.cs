using System.Linq.Expressions;
using System.Numerics;
using LinqStream.Internal;
using LinqStream.Physical.Kernels;

namespace LinqStream.Physical.Aggregate;

/// <summary>Typed factories for the aggregate columns whose value type is known only when a query is compiled.</summary>
/// <remarks>Each method is closed over its value types once (<see cref="GenericFactory"/>) and called as a typed delegate.</remarks>
internal static class AggregateColumnFactory<T>
{
    public static AggregateColumn<T> MinMax(Type value, string description, AggregateInput input, bool max, KernelCompiler kernels) =>
        GenericFactory.Get<Func<string, AggregateInput, bool, KernelCompiler, AggregateColumn<T>>>(Definition(nameof(CreateMinMax)), value)(description, input, max, kernels);

    public static AggregateColumn<T> IntegerSum(Type value, string description, AggregateInput input, bool average, KernelCompiler kernels) =>
        GenericFactory.Get<Func<string, AggregateInput, bool, KernelCompiler, AggregateColumn<T>>>(Definition(nameof(CreateIntegerSum)), value)(description, input, average, kernels);

    public static AggregateColumn<T> OrderedSum(Type value, Type accumulator, string description, AggregateInput input, bool average, KernelCompiler kernels) =>
        GenericFactory.Get<Func<string, AggregateInput, bool, KernelCompiler, AggregateColumn<T>>>(Definition(nameof(CreateOrderedSum)), value, accumulator)(description, input, average, kernels);

    public static AggregateColumn<T> DistinctCount(Type value, string description, AggregateInput input, KernelCompiler kernels) =>
        GenericFactory.Get<Func<string, AggregateInput, KernelCompiler, AggregateColumn<T>>>(Definition(nameof(CreateDistinctCount)), value)(description, input, kernels);

    public static AggregateColumn<T> TopK(Type sortKey, string description, AggregateInput input, int k, bool descending, object? comparer, KernelCompiler kernels) =>
        GenericFactory.Get<Func<string, AggregateInput, int, bool, object?, KernelCompiler, AggregateColumn<T>>>(Definition(nameof(CreateTopK)), sortKey)(description, input, k, descending, comparer, kernels);

    /// <summary>A user aggregate column; <paramref name="types"/> are the aggregate's <c>TInput</c>, <c>TState</c>, <c>TResult</c> and its own type.</summary>
    public static AggregateColumn<T> User(Type[] types, string description, AggregateInput input, object aggregate, KernelCompiler kernels) =>
        GenericFactory.Get<Func<string, AggregateInput, object, KernelCompiler, AggregateColumn<T>>>(Definition(nameof(CreateUser)), types)(description, input, aggregate, kernels);

    /// <summary>A fold (<c>Aggregate(seed, func)</c>) whose values are <paramref name="value"/> and accumulator <paramref name="accumulator"/>.</summary>
    public static AggregateColumn<T> Fold(Type value, Type accumulator, string description, AggregateInput input, Expression? seed, LambdaExpression func, KernelCompiler kernels) =>
        GenericFactory.Get<Func<string, AggregateInput, Expression?, LambdaExpression, KernelCompiler, AggregateColumn<T>>>(Definition(nameof(CreateFold)), value, accumulator)(description, input, seed, func, kernels);

    /// <summary>A comparer of value tuples, component by component, each in its own direction.</summary>
    public static object CompositeComparer(Type tuple, bool[] descending) =>
        GenericFactory.Get<Func<bool[], object>>(Definition(nameof(CreateCompositeComparer)), tuple)(descending);

    private static System.Reflection.MethodInfo Definition(string name) => GenericFactory.Definition(typeof(AggregateColumnFactory<T>), name);

    private static AggregateColumn<T> CreateMinMax<TValue>(string description, AggregateInput input, bool max, KernelCompiler kernels) =>
        new MinMaxColumn<T, TValue>(description, input, max, kernels);

    private static AggregateColumn<T> CreateIntegerSum<TValue>(string description, AggregateInput input, bool average, KernelCompiler kernels)
        where TValue : struct, IBinaryInteger<TValue>, IMinMaxValue<TValue> =>
        new IntegerSumColumn<T, TValue>(description, input, average, kernels);

    private static AggregateColumn<T> CreateOrderedSum<TValue, TAcc>(string description, AggregateInput input, bool average, KernelCompiler kernels)
        where TValue : struct, INumber<TValue>
        where TAcc : struct, INumber<TAcc> =>
        new OrderedSumColumn<T, TValue, TAcc>(description, input, average, kernels);

    private static AggregateColumn<T> CreateDistinctCount<TValue>(string description, AggregateInput input, KernelCompiler kernels) =>
        new DistinctCountColumn<T, TValue>(description, input, kernels);

    private static AggregateColumn<T> CreateTopK<TSortKey>(string description, AggregateInput input, int k, bool descending, object? comparer, KernelCompiler kernels) =>
        new TopKColumn<T, TSortKey>(description, input, k, descending, (IComparer<TSortKey>?)comparer, kernels);

    private static AggregateColumn<T> CreateUser<TInput, TState, TResult, TAggregate>(string description, AggregateInput input, object aggregate, KernelCompiler kernels)
        where TAggregate : IAggregate<TInput, TState, TResult> =>
        new UserAggregateColumn<T, TInput, TState, TResult, TAggregate>(description, input, (TAggregate)aggregate, kernels);

    private static AggregateColumn<T> CreateFold<TValue, TAcc>(string description, AggregateInput input, Expression? seed, LambdaExpression func, KernelCompiler kernels) =>
        new FoldColumn<T, TValue, TAcc>(description, input, seed, func, kernels);

    private static object CreateCompositeComparer<TTuple>(bool[] descending)
        where TTuple : struct =>
        new CompositeKeyComparer<TTuple>(descending);
}
