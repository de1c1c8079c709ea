using System.Linq.Expressions;
using LinqStream.Plan;

namespace LinqStream.Physical.Over;

/// <summary>The logical <c>Over</c>: per event, a user aggregate over the last <see cref="Rows"/> events of its key.</summary>
internal sealed class OverNode(PlanNode source, LambdaExpression key, int rows, long idleTicks, object aggregate, Type stateType, Type resultType)
    : UnaryNode(source)
{
    public LambdaExpression Key { get; } = key;

    /// <summary>Gets how many events of a key the aggregate sees, the current one included.</summary>
    public int Rows { get; } = rows;

    /// <summary>Gets the key idle timeout in ticks (<see cref="long.MaxValue"/>: never).</summary>
    public long IdleTicks { get; } = idleTicks;

    /// <summary>Gets the user aggregate's instance (an <c>IAggregate&lt;T, TState, TResult&gt;</c>).</summary>
    public object Aggregate { get; } = aggregate;

    public Type StateType { get; } = stateType;

    public override Type Type { get; } = resultType;

    public override string Name => "Over";

    public override string Detail => $"{Key}, rows: {Rows}, key idle timeout: {(IdleTicks == long.MaxValue ? "never" : TimeSpan.FromTicks(IdleTicks).ToString())}, {Aggregate.GetType().Name}";

    protected override PlanNode With(PlanNode source) => new OverNode(source, Key, Rows, IdleTicks, Aggregate, StateType, Type);
}
