using System.Linq.Expressions;
using LinqStream.Physical.Kernels;
using LinqStream.Temporal;

namespace LinqStream.Physical.Join;

/// <summary>What every operator over two keyed inputs runs on an arriving batch: the two key kernels (<c>BinaryJoinOperator</c>).</summary>
internal interface IJoinKeyKernels<TLeft, TRight, TKey> : ICompilesKernels
{
    /// <summary>Gets the name errors and plans use.</summary>
    string OperatorName { get; }

    LambdaExpression LeftKeySelector { get; }

    LambdaExpression RightKeySelector { get; }

    /// <summary>Gets the compiled left key kernel <c>(payload, absent, keys, count)</c>.</summary>
    Action<TLeft[], ulong[]?, TKey[], int> LeftKey { get; }

    /// <summary>Gets the compiled right key kernel <c>(payload, absent, keys, count)</c>.</summary>
    Action<TRight[], ulong[]?, TKey[], int> RightKey { get; }

    /// <summary>Gets the join condition as the plan printer and error messages show it.</summary>
    string Condition { get; }
}

/// <summary>What a temporal join runs, compiled once per plan: its kind, the two key kernels and the result kernel.</summary>
internal sealed class JoinKernels<TLeft, TRight, TKey, TResult> : IJoinKeyKernels<TLeft, TRight, TKey>
{
    private readonly KernelCompiler _compiler;
    private Action<TLeft[], ulong[]?, TKey[], int>? _leftKey;
    private Action<TRight[], ulong[]?, TKey[], int>? _rightKey;
    private Action<TLeft[], TRight[], TResult[], int>? _result;

    public JoinKernels(JoinKind kind, string operatorName, LambdaExpression leftKey, LambdaExpression rightKey, LambdaExpression resultSelector, KernelCompiler? kernels = null)
    {
        _compiler = kernels ?? KernelCompiler.Shared;
        Kind = kind;
        OperatorName = operatorName;
        LeftKeySelector = leftKey;
        RightKeySelector = rightKey;
        ResultSelector = resultSelector;
    }

    public JoinKind Kind { get; }

    /// <summary>Gets the name errors and plans use: <c>Join</c>, <c>LeftJoin</c> or <c>WhereNotExists</c>.</summary>
    public string OperatorName { get; }

    public LambdaExpression LeftKeySelector { get; }

    public LambdaExpression RightKeySelector { get; }

    public LambdaExpression ResultSelector { get; }

    /// <summary>Gets the compiled left key kernel <c>(payload, absent, keys, count)</c>.</summary>
    public Action<TLeft[], ulong[]?, TKey[], int> LeftKey => _leftKey ?? throw NotCompiled();

    /// <summary>Gets the compiled right key kernel <c>(payload, absent, keys, count)</c>.</summary>
    public Action<TRight[], ulong[]?, TKey[], int> RightKey => _rightKey ?? throw NotCompiled();

    /// <summary>Gets the compiled result kernel <c>(left, right, output, count)</c>.</summary>
    public Action<TLeft[], TRight[], TResult[], int> Result => _result ?? throw NotCompiled();

    /// <summary>Gets the join condition as the plan printer and error messages show it.</summary>
    public string Condition => $"{LeftKeySelector} equals {RightKeySelector}";

    /// <summary>Compiles the three kernels through the compiler given at construction, once.</summary>
    public void CompileKernels()
    {
        _leftKey ??= ColumnKernel.Compile<TLeft, TKey>(LeftKeySelector, _compiler);
        _rightKey ??= ColumnKernel.Compile<TRight, TKey>(RightKeySelector, _compiler);
        _result ??= JoinResultKernel.Compile<TLeft, TRight, TResult>(ResultSelector, _compiler);
    }

    private InvalidOperationException NotCompiled() => new($"The kernels of {OperatorName} ({Condition}) were not compiled; the compiler's last stage compiles them.");
}
