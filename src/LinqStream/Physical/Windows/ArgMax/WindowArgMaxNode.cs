using System.Linq.Expressions;
using LinqStream.Plan;
using LinqStream.Temporal;

namespace LinqStream.Physical.Windows.ArgMax;

/// <summary>
/// The events of each window whose value is the window's maximum (ties included), each joined with the window's aggregate row:
/// what "a per-window <c>Max</c> joined back to its own input on the maximum" computes, without the join.
/// </summary>
/// <remarks>
/// <para>
/// Made by <c>WindowMaxJoinToArgMaxPass</c>, never by translation. <see cref="UnaryNode.Source"/> is the join's left input; its
/// events that share a start form one group (a window), and <see cref="RowWindow"/> is the window of the replaced aggregate, so a
/// group starting at <c>s</c> gets the row <see cref="Row"/><c>(WindowStart(s), WindowEnd(s), max)</c>.
/// </para>
/// <para>
/// Each kept event <c>l</c> gives <see cref="Result"/><c>(l, row)</c> with the join's lifetime <c>[max(s, windowStart),
/// min(l.End, windowEnd))</c>, in the order the join gave them (its probe walks the window's events newest first).
/// <see cref="LeftKey"/> and <see cref="RightKey"/> are the join's keys: the operator checks that every pair it emits is one the
/// join would have matched.
/// </para>
/// </remarks>
internal sealed class WindowArgMaxNode(
    PlanNode source, LambdaExpression value, WindowSpec rowWindow, LambdaExpression row, LambdaExpression result, LambdaExpression leftKey, LambdaExpression rightKey)
    : UnaryNode(source)
{
    /// <summary>Gets the compared value of an input event (an integral type; the replaced <c>Max</c>'s selector).</summary>
    public LambdaExpression Value { get; } = value;

    /// <summary>Gets the replaced aggregate's window (tumbling).</summary>
    public WindowSpec RowWindow { get; } = rowWindow;

    /// <summary>Gets <c>(long windowStart, long windowEnd, long max) =&gt; row</c>: the replaced aggregate's result for a window.</summary>
    public LambdaExpression Row { get; } = row;

    /// <summary>Gets the join's result selector <c>(left, row) =&gt; result</c>.</summary>
    public LambdaExpression Result { get; } = result;

    public LambdaExpression LeftKey { get; } = leftKey;

    public LambdaExpression RightKey { get; } = rightKey;

    public override Type Type => Result.ReturnType;

    public override string Name => "WindowArgMax";

    public override string Detail => $"{RowWindow}, max of {Value}, row: {Row}, select: {Result}";

    protected override PlanNode With(PlanNode source) => new WindowArgMaxNode(source, Value, RowWindow, Row, Result, LeftKey, RightKey);
}
