using System.Linq.Expressions;
using LinqStream.Physical.Kernels;
using LinqStream.Temporal;

namespace LinqStream.Physical.Join;

/// <summary>What a temporal join runs, compiled once per plan: its kind, the two key kernels and the result kernel.</summary>
internal sealed class JoinKernels<TLeft, TRight, TKey, TResult>
{
    public JoinKernels(JoinKind kind, string operatorName, LambdaExpression leftKey, LambdaExpression rightKey, LambdaExpression resultSelector)
    {
        Kind = kind;
        OperatorName = operatorName;
        LeftKeySelector = leftKey;
        RightKeySelector = rightKey;
        ResultSelector = resultSelector;
        LeftKey = ColumnKernel.Compile<TLeft, TKey>(leftKey);
        RightKey = ColumnKernel.Compile<TRight, TKey>(rightKey);
        Result = JoinResultKernel.Compile<TLeft, TRight, TResult>(resultSelector);
    }

    public JoinKind Kind { get; }

    /// <summary>Gets the name errors and plans use: <c>Join</c>, <c>LeftJoin</c> or <c>WhereNotExists</c>.</summary>
    public string OperatorName { get; }

    public LambdaExpression LeftKeySelector { get; }

    public LambdaExpression RightKeySelector { get; }

    public LambdaExpression ResultSelector { get; }

    /// <summary>Gets the compiled left key kernel <c>(payload, absent, keys, count)</c>.</summary>
    public Action<TLeft[], ulong[]?, TKey[], int> LeftKey { get; }

    /// <summary>Gets the compiled right key kernel <c>(payload, absent, keys, count)</c>.</summary>
    public Action<TRight[], ulong[]?, TKey[], int> RightKey { get; }

    /// <summary>Gets the compiled result kernel <c>(left, right, output, count)</c>.</summary>
    public Action<TLeft[], TRight[], TResult[], int> Result { get; }

    /// <summary>Gets the join condition as the plan printer and error messages show it.</summary>
    public string Condition => $"{LeftKeySelector} equals {RightKeySelector}";
}
