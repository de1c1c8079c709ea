using System.Linq.Expressions;
using LinqStream.Physical.Kernels;

namespace LinqStream.Physical.Windows.KeyedFold;

/// <summary>What a <c>KeyedFoldOperator</c> runs: the key and input column kernels (per batch) and the per-group result delegate.</summary>
internal sealed class KeyedFoldKernels<TX, TKey, TIn, TAggResult, TResult>(KeyedFoldLambdas lambdas, KernelCompiler? kernels = null) : ICompilesKernels
{
    private readonly KernelCompiler _compiler = kernels ?? KernelCompiler.Shared;
    private Action<Closing<TX>[], ulong[]?, TKey[], int>? _key;
    private Action<Closing<TX>[], ulong[]?, TIn[], int>? _input;
    private Func<TKey, long, long, TAggResult, TResult>? _result;

    public KeyedFoldLambdas Lambdas { get; } = lambdas;

    /// <summary>Gets <c>(payload, absent, keys, count)</c>: the group key of each tagged value.</summary>
    public Action<Closing<TX>[], ulong[]?, TKey[], int> Key => _key ?? throw NotCompiled();

    /// <summary>Gets <c>(payload, absent, inputs, count)</c>: what each tagged value adds to its group.</summary>
    public Action<Closing<TX>[], ulong[]?, TIn[], int> Input => _input ?? throw NotCompiled();

    /// <summary>Gets <c>(key, windowStart, windowEnd, aggregateResult) =&gt; result</c>.</summary>
    public Func<TKey, long, long, TAggResult, TResult> Result => _result ?? throw NotCompiled();

    public void CompileKernels()
    {
        _key ??= ColumnKernel.Compile<Closing<TX>, TKey>(Lambdas.Key, _compiler);
        _input ??= ColumnKernel.Compile<Closing<TX>, TIn>(Lambdas.Input, _compiler);
        _result ??= KeyedFoldResult.Compile<TKey, TAggResult, TResult>(Lambdas.Result, _compiler);
    }

    private static InvalidOperationException NotCompiled() =>
        new("The kernels of KeyedFold were not compiled; the compiler's last stage compiles them.");
}

/// <summary>The lambdas of a <see cref="KeyedFoldNode"/> that the physical operator compiles.</summary>
internal sealed record KeyedFoldLambdas(LambdaExpression Key, LambdaExpression Input, LambdaExpression Result);

/// <summary>Compiles a keyed fold's result selector <c>(key, windowStart, windowEnd, aggregateResult) =&gt; result</c>.</summary>
internal static class KeyedFoldResult
{
    public static Func<TKey, long, long, TAggResult, TResult> Compile<TKey, TAggResult, TResult>(LambdaExpression lambda, KernelCompiler compiler)
    {
        // The pass builds the result selector with the operator's parameter types; only the result may need a conversion.
        return compiler.Compile(new KernelRecipe(nameof(KeyedFoldResult), 0, [lambda]), () =>
        {
            var body = lambda.Body.Type == typeof(TResult) ? lambda.Body : Expression.Convert(lambda.Body, typeof(TResult));
            return Expression.Lambda<Func<TKey, long, long, TAggResult, TResult>>(body, lambda.Parameters);
        });
    }
}
