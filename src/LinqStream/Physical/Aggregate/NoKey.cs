namespace LinqStream.Physical.Aggregate;

/// <summary>The key of a window aggregated as a whole (<c>Select(w =&gt; ...)</c> with no <c>GroupBy</c>).</summary>
internal readonly record struct NoKey;
