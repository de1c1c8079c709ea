namespace LinqStream.Physical.Windows.KeyedFold;

/// <summary>A value on its way to a <c>KeyedFoldOperator</c>, with the close time of the key event it was matched with.</summary>
/// <typeparam name="T">The value: the replaced join's result, after the filters and projections that followed it.</typeparam>
/// <param name="Close">The key event's original time (its close): the value belongs to the one-tick window <c>[Close, Close + 1)</c>.</param>
/// <param name="Value">The value.</param>
internal readonly record struct Closing<T>(long Close, T Value);
