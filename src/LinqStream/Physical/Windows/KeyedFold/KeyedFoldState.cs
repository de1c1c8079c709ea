namespace LinqStream.Physical.Windows.KeyedFold;

/// <summary>What a <c>KeyedFoldOperator</c> holds between two calls, as plain data for checkpoints.</summary>
/// <typeparam name="TKey">The group key type.</typeparam>
/// <typeparam name="TState">The user aggregate's state type.</typeparam>
/// <param name="Watermark">The last input watermark.</param>
/// <param name="Groups">The open groups, each with its close time, key and state.</param>
internal sealed record KeyedFoldState<TKey, TState>(long Watermark, IReadOnlyList<KeyedFoldGroup<TKey, TState>> Groups);

/// <summary>One open group of a <c>KeyedFoldOperator</c>.</summary>
/// <typeparam name="TKey">The group key type.</typeparam>
/// <typeparam name="TState">The user aggregate's state type.</typeparam>
/// <param name="Close">The close time: the group is emitted once the watermark passes it.</param>
/// <param name="Key">The group key (null for a null key).</param>
/// <param name="State">The aggregate's state after every value added so far.</param>
internal sealed record KeyedFoldGroup<TKey, TState>(long Close, TKey Key, TState State);
