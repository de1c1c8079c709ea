namespace LinqStream.Physical.Over;

/// <summary>The state of an <see cref="OverRowsOperator{T, TKey, TState, TResult, TAggregate}"/> as plain data, for checkpoints and tests.</summary>
/// <param name="Keys">The live keys, least recently seen first (the order in which they expire).</param>
internal sealed record OverRowsState<T, TKey>(IReadOnlyList<OverRowsKey<T, TKey>> Keys);

/// <summary>One key of an <c>Over</c>: its latest start and its last rows, oldest first.</summary>
/// <param name="Key">The key (null for the null key).</param>
/// <param name="LastStart">The start of the key's latest event.</param>
/// <param name="Rows">The key's last events (at most the operator's row count), oldest first.</param>
internal sealed record OverRowsKey<T, TKey>(TKey Key, long LastStart, IReadOnlyList<T> Rows);
