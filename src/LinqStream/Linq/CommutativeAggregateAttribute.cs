namespace LinqStream;

/// <summary>
/// Declares that a user aggregate (<see cref="IAggregate{TInput, TState, TResult}"/>) gives the same result whatever the order in
/// which its values are added, for example the maximum under a total order, a count or a sum of integers.
/// </summary>
/// <remarks>
/// <para>
/// The engine folds a group's values in event order (docs/semantics.md §5a). An aggregate marked with this attribute lets the
/// optimizer fold each value as soon as it is known instead: NEXMark q9's shape, "the best bid per auction, emitted when the
/// auction closes" (a join of the closes with the bids followed by a one-tick window), then keeps one state per open auction
/// instead of every bid (docs/architecture.md, the <c>ExpiryJoinToKeyedFold</c> rewrite).
/// </para>
/// <para>
/// The attribute is a promise the engine does not check: if <c>Add</c> depends on the order (ties kept first-come, a list, a
/// floating-point sum), the rewritten plan may give another answer than the unrewritten one. Break every tie in <c>Add</c> by
/// the whole value to keep it.
/// </para>
/// </remarks>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, AllowMultiple = false, Inherited = false)]
public sealed class CommutativeAggregateAttribute : Attribute
{
}
