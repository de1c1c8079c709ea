using System.Linq.Expressions;
using LinqStream.Physical.Kernels;

namespace LinqStream.Physical.Aggregate;

/// <summary>
/// <c>g.Aggregate(seed, func)</c> and <c>g.Aggregate(func)</c>: one accumulator per slot, folded in event order by a compiled
/// loop with <c>func</c> inlined (no delegate call per event).
/// </summary>
/// <remarks>
/// A fold is not associative in general, so it cannot be merged: a hopping window folds each event into every window that
/// holds it. The seed is evaluated once per (window, key) when its first event arrives (or when an empty filtered group's
/// result is read), as LINQ evaluates it once per call; without a seed the first value starts the fold and an empty group
/// has no result (LINQ throws).
/// </remarks>
/// <typeparam name="T">The payload type.</typeparam>
/// <typeparam name="TValue">The type of the values folded.</typeparam>
/// <typeparam name="TAcc">The accumulator type.</typeparam>
internal sealed class FoldColumn<T, TValue, TAcc> : ValueAggregateColumn<T, TValue>
{
    private readonly Action<TAcc[], bool[], TValue[], bool[], int[], int> _fold;
    private readonly Func<TAcc>? _seed;
    private TAcc[] _accumulators = [];
    private bool[] _started = [];

    /// <summary>Initializes a fold.</summary>
    /// <param name="description">How the plan shows it.</param>
    /// <param name="input">The filter and the value folded.</param>
    /// <param name="seed">The seed expression (no parameters), or null when the first value starts the fold.</param>
    /// <param name="func">The fold, <c>(TAcc acc, TValue value) =&gt; TAcc</c>.</param>
    /// <param name="kernels">Compiles the value, fold and seed kernels.</param>
    public FoldColumn(string description, AggregateInput input, Expression? seed, LambdaExpression func, KernelCompiler kernels)
        : base(description, input, kernels)
    {
        _fold = kernels.Compile(
            seed is null ? new KernelRecipe("FoldColumn", 0, [func]) : new KernelRecipe("FoldColumn", 1, [func, seed]),
            () => Build(seed, func));
        _seed = seed is null ? null : kernels.Compile(new KernelRecipe("FoldColumn.Seed", 0, [seed]), () => Expression.Lambda<Func<TAcc>>(Convert(seed)));
    }

    public override void Grow(int capacity)
    {
        Array.Resize(ref _accumulators, capacity);
        Array.Resize(ref _started, capacity);
    }

    public override void Accumulate(int[] slots, int count) => _fold(_accumulators, _started, Values, Include, slots, count);

    public override void Clear(int slot)
    {
        _accumulators[slot] = default!;
        _started[slot] = false;
    }

    public override Type SlotType => typeof((TAcc, bool));

    public override object? CaptureSlot(int slot) => (_accumulators[slot], _started[slot]);

    public override bool CaptureIsACopy => !System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<TAcc>();

    public override void RestoreSlot(int slot, object? state) => (_accumulators[slot], _started[slot]) = ((TAcc, bool))state!;

    /// <summary>The fold of the slot's events; the seed for an empty filtered group, or LINQ's error when there is no seed.</summary>
    public TAcc Result(int slot) => _started[slot] ? _accumulators[slot] : _seed is not null ? _seed() : throw AggregateErrors.NoElements();

    private static Expression Convert(Expression e) => e.Type == typeof(TAcc) ? e : Expression.Convert(e, typeof(TAcc));

    /// <summary>
    /// <c>for i: s = slots[i]; if (s &gt;= 0 &amp;&amp; include[i]) { if (started[s]) acc[s] = func(acc[s], values[i]); else { acc[s] = seed
    /// is null ? values[i] : func(seed, values[i]); started[s] = true; } }</c>.
    /// </summary>
    private static Expression<Action<TAcc[], bool[], TValue[], bool[], int[], int>> Build(Expression? seed, LambdaExpression func)
    {
        var accumulators = Expression.Parameter(typeof(TAcc[]), "acc");
        var started = Expression.Parameter(typeof(bool[]), "started");
        var values = Expression.Parameter(typeof(TValue[]), "values");
        var include = Expression.Parameter(typeof(bool[]), "include");
        var slots = Expression.Parameter(typeof(int[]), "slots");
        var count = Expression.Parameter(typeof(int), "count");
        var i = Expression.Variable(typeof(int), "i");
        var s = Expression.Variable(typeof(int), "s");
        var start = Expression.Variable(typeof(TAcc), "seed");

        var loop = KernelBuilder.For(i, count, @continue =>
        {
            var value = Expression.ArrayIndex(values, i);
            var accumulator = Expression.ArrayAccess(accumulators, s);
            // The seed is evaluated once per slot, into a variable (func may read its accumulator more than once).
            var first = seed is null ? Convert(value)
                : Expression.Block(Expression.Assign(start, Convert(seed)), Convert(Internal.LambdaInliner.Inline(func, start, value)));
            return Expression.Block(
                Expression.Assign(s, Expression.ArrayIndex(slots, i)),
                Expression.IfThen(
                    Expression.AndAlso(Expression.GreaterThanOrEqual(s, Expression.Constant(0)), Expression.ArrayIndex(include, i)),
                    Expression.IfThenElse(
                        Expression.ArrayIndex(started, s),
                        Expression.Assign(accumulator, Convert(Internal.LambdaInliner.Inline(func, accumulator, value))),
                        Expression.Block(
                            Expression.Assign(accumulator, first),
                            Expression.Assign(Expression.ArrayAccess(started, s), Expression.Constant(true))))));
        });

        return Expression.Lambda<Action<TAcc[], bool[], TValue[], bool[], int[], int>>(Expression.Block([i, s, start], loop), accumulators, started, values, include, slots, count);
    }
}
