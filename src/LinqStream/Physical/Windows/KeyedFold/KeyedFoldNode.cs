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
/// gives <see cref="Result"/><c>(key, c, c + 1, aggregate.Result(state))</c> with the lifetime <c>[c, c + 1)</c>, in order of
/// <c>c</c>, then in stable key order (a null key first), as the replaced one-tick window aggregate gave them.
/// </para>
/// <para>
/// <see cref="Key"/> and <see cref="Input"/> are lambdas over the tagged payload; <see cref="Result"/> is
/// <c>(key, windowStart, windowEnd, aggregateResult) =&gt; result</c>.
/// </para>
/// </remarks>
internal sealed class KeyedFoldNode(
    PlanNode source, LambdaExpression key, LambdaExpression input, LambdaExpression result, object aggregate, IReadOnlyList<Type> aggregateTypes, string description, bool evaluatedCapturedValue)
    : UnaryNode(source)
{
    /// <summary>Gets the group key of a tagged value (the replaced aggregate's key).</summary>
    public LambdaExpression Key { get; } = key;

    /// <summary>Gets what a tagged value adds to its group's state (the user aggregate's input).</summary>
    public LambdaExpression Input { get; } = input;

    /// <summary>Gets <c>(key, windowStart, windowEnd, aggregateResult) =&gt; result</c>.</summary>
    public LambdaExpression Result { get; } = result;

    /// <summary>Gets the user aggregate's instance (marked <c>[CommutativeAggregate]</c>).</summary>
    public object Aggregate { get; } = aggregate;

    /// <summary>Gets the aggregate's <c>TInput</c>, <c>TState</c> and <c>TResult</c>.</summary>
    public IReadOnlyList<Type> AggregateTypes { get; } = aggregateTypes;

    /// <summary>Gets the printed aggregate, e.g. <c>Aggregate(WinningBid, m =&gt; m)</c>.</summary>
    public string Description { get; } = description;

    /// <summary>Gets whether translation evaluated a captured object to get <see cref="Aggregate"/> (the plan then cannot be cached).</summary>
    public bool EvaluatedCapturedValue { get; } = evaluatedCapturedValue;

    public override Type Type => Result.ReturnType;

    public override string Name => "KeyedFold";

    public override string Detail => $"per close and key {Key}, {Description}, select: {Result}";

    protected override PlanNode With(PlanNode source) => new KeyedFoldNode(source, Key, Input, Result, Aggregate, AggregateTypes, Description, EvaluatedCapturedValue);
}
