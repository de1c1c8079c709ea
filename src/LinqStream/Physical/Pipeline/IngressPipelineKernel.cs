using System.Linq.Expressions;
using LinqStream.Physical.Kernels;

namespace LinqStream.Physical.Pipeline;

/// <summary>
/// Compiles an ingress's event-time selector and the filter/projection chain right after it into one pass over a slice of the
/// replayed source array: each event object is read once, for its time and for the chain (issue #19).
/// </summary>
/// <remarks>
/// The unfused path copies the slice into a batch, runs the event-time kernel over it (the first touch of every event object, a
/// cache miss each), then the chain's kernel (the same objects again). This kernel does both at once, a filter-bit word at a time:
/// <code>
/// for (first = 0; first &lt; count; first += 64) {
///     bits = 0;
///     for (i = first; i &lt; min(first + 64, count); i++) {
///         v0 = source[offset + i]; start[i] = ticks(v0);
///         if (!a(v0)) { bits |= 1UL &lt;&lt; (i &amp; 63); continue; } v1 = b(v0); ...; output[i] = vN;
///     }
///     absent[first &gt;&gt; 6] = bits;
/// }
/// </code>
/// The start of every event is computed whatever the chain decides (the ingress's order check and watermark read all of them);
/// <c>output</c> gets the chain's value of each present event (the event itself when the chain only filters).
/// </remarks>
internal static class IngressPipelineKernel
{
    /// <summary>Compiles <c>(source, offset, start, absent, output, count)</c>; <paramref name="startTicks"/> returns long ticks.</summary>
    public static Action<TIn[], int, long[], ulong[], TOut[], int> Compile<TIn, TOut>(LambdaExpression startTicks, IReadOnlyList<PipelineKernelStep> steps, KernelCompiler? kernels = null)
    {
        kernels ??= KernelCompiler.Shared;
        return PipelineKernel.RecipeOf(nameof(IngressPipelineKernel), steps, startTicks) is { } recipe
            ? kernels.Compile(recipe, () => Build<TIn, TOut>(startTicks, steps))
            : kernels.Compile(Build<TIn, TOut>(startTicks, steps));
    }

    private static Expression<Action<TIn[], int, long[], ulong[], TOut[], int>> Build<TIn, TOut>(LambdaExpression startTicks, IReadOnlyList<PipelineKernelStep> steps)
    {
        var source = Expression.Parameter(typeof(TIn[]), "source");
        var offset = Expression.Parameter(typeof(int), "offset");
        var start = Expression.Parameter(typeof(long[]), "start");
        var absent = Expression.Parameter(typeof(ulong[]), "absent");
        var output = Expression.Parameter(typeof(TOut[]), "output");
        var count = Expression.Parameter(typeof(int), "count");
        var first = Expression.Variable(typeof(int), "first");
        var last = Expression.Variable(typeof(int), "last");
        var i = Expression.Variable(typeof(int), "i");
        var bits = Expression.Variable(typeof(ulong), "bits");
        var endOfWords = Expression.Label("endOfWords");
        var endOfWord = Expression.Label("endOfWord");
        var nextEvent = Expression.Label("nextEvent");

        var variables = new List<ParameterExpression>();
        var body = new List<Expression>();
        Expression current = Expression.Variable(typeof(TIn), "v0");
        variables.Add((ParameterExpression)current);
        body.Add(Expression.Assign(current, Expression.ArrayIndex(source, Expression.Add(offset, i))));
        var ticks = Internal.LambdaInliner.Inline(startTicks, current);
        body.Add(Expression.Assign(Expression.ArrayAccess(start, i), ticks.Type == typeof(long) ? ticks : Expression.Convert(ticks, typeof(long))));
        var markAbsent = Expression.OrAssign(bits, Expression.LeftShift(Expression.Constant(1UL), Expression.And(i, Expression.Constant(63))));
        foreach (var step in steps)
        {
            var value = Internal.LambdaInliner.Inline(step.Lambda, current);
            if (step.IsFilter)
            {
                body.Add(Expression.IfThen(Expression.Not(value), Expression.Block(markAbsent, Expression.Continue(nextEvent))));
            }
            else
            {
                var next = Expression.Variable(step.Lambda.ReturnType, "v" + variables.Count);
                variables.Add(next);
                body.Add(Expression.Assign(next, value));
                current = next;
            }
        }

        body.Add(Expression.Assign(Expression.ArrayAccess(output, i), current.Type == typeof(TOut) ? current : Expression.Convert(current, typeof(TOut))));

        var perEvent = Expression.Loop(
            Expression.Block(
                Expression.IfThen(Expression.GreaterThanOrEqual(i, last), Expression.Break(endOfWord)),
                Expression.Block(variables, body),
                Expression.Label(nextEvent),
                Expression.PreIncrementAssign(i)),
            endOfWord);

        var plus64 = Expression.Add(first, Expression.Constant(64));
        var perWord = Expression.Loop(
            Expression.Block(
                Expression.IfThen(Expression.GreaterThanOrEqual(first, count), Expression.Break(endOfWords)),
                Expression.Assign(last, Expression.Condition(Expression.LessThan(plus64, count), plus64, count)),
                Expression.Assign(bits, Expression.Constant(0UL)),
                Expression.Assign(i, first),
                perEvent,
                Expression.Assign(Expression.ArrayAccess(absent, Expression.RightShift(first, Expression.Constant(6))), bits),
                Expression.AddAssign(first, Expression.Constant(64))),
            endOfWords);

        return Expression.Lambda<Action<TIn[], int, long[], ulong[], TOut[], int>>(
            Expression.Block([first, last, i, bits], Expression.Assign(first, Expression.Constant(0)), perWord),
            source,
            offset,
            start,
            absent,
            output,
            count);
    }
}
