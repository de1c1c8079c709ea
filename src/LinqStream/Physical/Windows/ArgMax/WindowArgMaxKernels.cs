using System.Linq.Expressions;
using LinqStream.Physical.Kernels;

namespace LinqStream.Physical.Windows.ArgMax;

/// <summary>What a <c>WindowArgMaxOperator</c> runs: the value column kernel (per batch) and the per-window delegates.</summary>
internal sealed class WindowArgMaxKernels<TIn, TRow, TKey, TResult>(WindowArgMaxNodeLambdas lambdas, KernelCompiler? kernels = null) : ICompilesKernels
{
    private readonly KernelCompiler _compiler = kernels ?? KernelCompiler.Shared;
    private Action<TIn[], ulong[]?, long[], int>? _value;
    private Func<long, long, long, TRow>? _row;
    private Func<TIn, TRow, TResult>? _result;
    private Func<TIn, TKey>? _leftKey;
    private Func<TRow, TKey>? _rightKey;

    public WindowArgMaxNodeLambdas Lambdas { get; } = lambdas;

    /// <summary>Gets <c>(payload, absent, values, count)</c>: the compared value of each event, widened to <c>long</c>.</summary>
    public Action<TIn[], ulong[]?, long[], int> Value => _value ?? throw NotCompiled();

    public Func<long, long, long, TRow> Row => _row ?? throw NotCompiled();

    public Func<TIn, TRow, TResult> Result => _result ?? throw NotCompiled();

    public Func<TIn, TKey> LeftKey => _leftKey ?? throw NotCompiled();

    public Func<TRow, TKey> RightKey => _rightKey ?? throw NotCompiled();

    public void CompileKernels()
    {
        _value ??= ColumnKernel.Compile<TIn, long>(Lambdas.Value, _compiler);
        _row ??= Compile<Func<long, long, long, TRow>>(Lambdas.Row);
        _result ??= Compile<Func<TIn, TRow, TResult>>(Lambdas.Result);
        _leftKey ??= Compile<Func<TIn, TKey>>(Lambdas.LeftKey);
        _rightKey ??= Compile<Func<TRow, TKey>>(Lambdas.RightKey);
    }

    private TDelegate Compile<TDelegate>(LambdaExpression lambda)
        where TDelegate : Delegate =>
        _compiler.Compile(new KernelRecipe("WindowArgMax.Typed", 0, [lambda]), () => Typed<TDelegate>(lambda));

    private static Expression<TDelegate> Typed<TDelegate>(LambdaExpression lambda)
    {
        var returnType = typeof(TDelegate).GetMethod("Invoke")!.ReturnType;
        var body = lambda.Body.Type == returnType ? lambda.Body : Expression.Convert(lambda.Body, returnType);
        return Expression.Lambda<TDelegate>(body, lambda.Parameters);
    }

    private static InvalidOperationException NotCompiled() =>
        new("The kernels of WindowArgMax were not compiled; the compiler's last stage compiles them.");
}

/// <summary>The lambdas of a <see cref="WindowArgMaxNode"/> that the physical operator compiles.</summary>
internal sealed record WindowArgMaxNodeLambdas(LambdaExpression Value, LambdaExpression Row, LambdaExpression Result, LambdaExpression LeftKey, LambdaExpression RightKey);
