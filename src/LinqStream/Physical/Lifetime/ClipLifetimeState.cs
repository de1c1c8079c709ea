namespace LinqStream.Physical.Lifetime;

/// <summary>The state of a <see cref="ClipLifetimeOperator{T, TKey}"/> as plain data, for checkpoints and tests.</summary>
/// <param name="InputWatermark">The last watermark received.</param>
/// <param name="OutputWatermark">The last watermark sent downstream.</param>
/// <param name="Held">The events held back, in start (arrival) order.</param>
/// <remarks>
/// The per-key table is not listed: it is exactly the undecided events of <paramref name="Held"/> grouped by key (all the
/// undecided events of one key share one start), so it can be rebuilt from this list.
/// </remarks>
internal sealed record ClipLifetimeState<T, TKey>(long InputWatermark, long OutputWatermark, IReadOnlyList<ClipHeldEvent<T, TKey>> Held);

/// <summary>One event held back by <c>ClipLifetime</c>.</summary>
/// <param name="Start">The event's start.</param>
/// <param name="End">The event's end, already clipped when <paramref name="Decided"/>.</param>
/// <param name="Key">The event's key.</param>
/// <param name="Payload">The event's payload.</param>
/// <param name="Decided">Whether a later event of the same key has arrived (so <paramref name="End"/> is final).</param>
internal readonly record struct ClipHeldEvent<T, TKey>(long Start, long End, TKey Key, T Payload, bool Decided);
