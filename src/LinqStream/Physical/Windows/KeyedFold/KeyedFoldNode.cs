using System.Linq.Expressions;
using LinqStream.Plan;

namespace LinqStream.Physical.Windows.KeyedFold;

/// <summary>
/// Per (close time, key), the fold of a commutative user aggregate over the values that arrive tagged with that close time,
/// emitted once the watermark passes the close: what "a join of closes with what they close, then a one-tick window per key"
/// computes, with nothing held but one state per open group.
/// </summary>
/// <remarks>
/// <para>
/// Made by <c>ExpiryJoinToKeyedFoldPass</c>, never by translation. The input's payloads are <c>Closing&lt;X&gt;</c>: the close
/// time <c>c</c> and the value <c>x</c>. A value joins the group <c>(c, Key(x))</c>; when the watermark passes <c>c</c>, each group
/// gives <see cref="KeyedFoldSpec.Result"/><c>(key, c, c + 1, aggregate.Result(state))</c> with the lifetime <c>[c, c + 1)</c>, in order of
/// <c>c</c>, then in stable key order (a null key first), as the replaced one-tick window aggregate gave them.
/// </para>
/// <para>
/// <see cref="KeyedFoldSpec.Key"/> and <see cref="KeyedFoldSpec.Input"/> are lambdas over the tagged payload; <see cref="KeyedFoldSpec.Result"/> is
/// <c>(key, windowStart, windowEnd, aggregateResult) =&gt; result</c>.
/// </para>
/// </remarks>
internal sealed class KeyedFoldNode(PlanNode source, KeyedFoldSpec fold) : UnaryNode(source)
{
    /// <summary>Gets the fold: the group key, the aggregate and its input, and the result.</summary>
    public KeyedFoldSpec Fold { get; } = fold;

    public override Type Type => Fold.Result.ReturnType;

    public override string Name => "KeyedFold";

    public override string Detail => Fold.ToString();

    protected override PlanNode With(PlanNode source) => new KeyedFoldNode(source, Fold);
}

/// <summary>
/// What a keyed fold computes, whether alone (<see cref="KeyedFoldNode"/>) or fused with its join (<see cref="JoinKeyedFoldNode"/>): per
/// (close, key) the fold of a commutative user aggregate over the values tagged with that close, and the result of each group.
/// </summary>
/// <param name="Key">The group key of a tagged value (the replaced aggregate's key).</param>
/// <param name="Input">What a tagged value adds to its group's state (the user aggregate's input).</param>
/// <param name="Result"><c>(key, windowStart, windowEnd, aggregateResult) =&gt; result</c>.</param>
/// <param name="Aggregate">The user aggregate's instance (marked <see cref="CommutativeAggregateAttribute"/>).</param>
/// <param name="AggregateTypes">The aggregate's <c>TInput</c>, <c>TState</c> and <c>TResult</c>.</param>
/// <param name="Description">The printed aggregate, e.g. <c>Aggregate(WinningBid, m =&gt; m)</c>.</param>
/// <param name="EvaluatedCapturedValue">Whether translation evaluated a captured object to get <paramref name="Aggregate"/> (the plan then cannot be cached).</param>
internal sealed record KeyedFoldSpec(
    LambdaExpression Key, LambdaExpression Input, LambdaExpression Result, object Aggregate, IReadOnlyList<Type> AggregateTypes, string Description, bool EvaluatedCapturedValue)
{
    /// <summary>The same fold with its lambdas rebound (the plan cache's rebinding).</summary>
    public KeyedFoldSpec With(Func<LambdaExpression, LambdaExpression> rebind) => this with { Key = rebind(Key), Input = rebind(Input), Result = rebind(Result) };

    /// <summary>The printed fold, as <c>Explain()</c> shows it after the node's name.</summary>
    public override string ToString() => $"per close and key {Key}, {Description}, select: {Result}";
}
