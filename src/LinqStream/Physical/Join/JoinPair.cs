namespace LinqStream.Physical.Join;

/// <summary>A matched pair of a join as a value: what C#'s transparent identifier <c>new { a, b }</c> becomes when a plan pass proves that only its two members are read.</summary>
/// <typeparam name="TLeft">The left event's type.</typeparam>
/// <typeparam name="TRight">The right event's type.</typeparam>
/// <param name="Left">The left event (the identifier's first member).</param>
/// <param name="Right">The right event (its second member).</param>
internal readonly record struct JoinPair<TLeft, TRight>(TLeft Left, TRight Right);
