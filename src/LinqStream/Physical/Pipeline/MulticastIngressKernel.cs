using System.Linq.Expressions;
using LinqStream.Physical.Kernels;

namespace LinqStream.Physical.Pipeline;

/// <summary>
/// Compiles the one pass over a slice of a replayed source array for every filter/projection chain of a multicast of that source
/// (NEXMark q3 and q8: people and auctions split off one event stream): each event object is read once, its time computed once,
/// and each chain's present events written straight to the front of that chain's output columns (issue #19, speed14).
/// </summary>
/// <remarks>
/// Before, each chain ran its own ingress kernel over the slice (<see cref="IngressPipelineKernel"/>): one read of every event
/// object and one start column per chain, then a compaction of each sparse output. The kernel, for chains <c>0..n-1</c>:
/// <code>
/// s0 = (long[])columns[0]; p0 = (TOut0[])columns[1]; n0 = 0; ...
/// for (i = 0; i &lt; count; i++) {
///     v = source[offset + i]; t = ticks(v); starts[i] = t;
///     // chain 0: if (!a(v)) goto skip0; v1 = b(v); ...; s0[n0] = t; p0[n0] = vN; n0++; skip0:
///     // chain 1 ...
/// }
/// counts[0] = n0; ...
/// </code>
/// Every start goes to <c>starts</c> (the ingress's order check and watermark read them all); the chains' outputs hold only their
/// present events, in order, so no filter bits are written and no output is compacted afterwards.
/// </remarks>
internal static class MulticastIngressKernel
{
    /// <summary>
    /// Compiles <c>(source, offset, starts, columns, counts, count)</c>: <c>columns[2k]</c> is chain <c>k</c>'s start column
    /// (<c>long[]</c>) and <c>columns[2k + 1]</c> its payload column (<c>outputTypes[k][]</c>); <c>counts[k]</c> receives how many events
    /// chain <c>k</c> wrote. <paramref name="startTicks"/> returns long ticks.
    /// </summary>
    public static Action<TIn[], int, long[], object[], int[], int> Compile<TIn>(
        LambdaExpression startTicks, IReadOnlyList<IReadOnlyList<PipelineKernelStep>> chains, IReadOnlyList<Type> outputTypes, KernelCompiler? kernels = null)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(outputTypes.Count, chains.Count);
        kernels ??= KernelCompiler.Shared;
        return RecipeOf(startTicks, chains, outputTypes) is { } recipe
            ? kernels.Compile(recipe, () => Build<TIn>(startTicks, chains, outputTypes))
            : kernels.Compile(Build<TIn>(startTicks, chains, outputTypes));
    }

    /// <summary>
    /// The kernel's recipe (<see cref="KernelRecipe"/>): the time selector, then for each chain <c>default(outputType)</c> (which also
    /// delimits the chains) and its steps' lambdas, with a flag bit per step that filters; null past 64 steps in all.
    /// </summary>
    private static KernelRecipe? RecipeOf(LambdaExpression startTicks, IReadOnlyList<IReadOnlyList<PipelineKernelStep>> chains, IReadOnlyList<Type> outputTypes)
    {
        var parts = new List<Expression> { startTicks };
        ulong filters = 0;
        int step = 0;
        for (int k = 0; k < chains.Count; k++)
        {
            parts.Add(Expression.Default(outputTypes[k]));
            foreach (var s in chains[k])
            {
                if (step == 64)
                {
                    return null;
                }

                if (s.IsFilter)
                {
                    filters |= 1UL << step;
                }

                parts.Add(s.Lambda);
                step++;
            }
        }

        return new KernelRecipe(nameof(MulticastIngressKernel), filters, parts);
    }

    private static Expression<Action<TIn[], int, long[], object[], int[], int>> Build<TIn>(
        LambdaExpression startTicks, IReadOnlyList<IReadOnlyList<PipelineKernelStep>> chains, IReadOnlyList<Type> outputTypes)
    {
        var source = Expression.Parameter(typeof(TIn[]), "source");
        var offset = Expression.Parameter(typeof(int), "offset");
        var starts = Expression.Parameter(typeof(long[]), "starts");
        var columns = Expression.Parameter(typeof(object[]), "columns");
        var counts = Expression.Parameter(typeof(int[]), "counts");
        var count = Expression.Parameter(typeof(int), "count");
        var i = Expression.Variable(typeof(int), "i");
        var t = Expression.Variable(typeof(long), "t");
        var v0 = Expression.Variable(typeof(TIn), "v0");
        var endOfSlice = Expression.Label("endOfSlice");

        var locals = new List<ParameterExpression> { i, t, v0 };
        var setup = new List<Expression>();
        var perEvent = new List<Expression>();
        var finish = new List<Expression>();

        perEvent.Add(Expression.Assign(v0, Expression.ArrayIndex(source, Expression.Add(offset, i))));
        var ticks = Internal.LambdaInliner.Inline(startTicks, v0);
        perEvent.Add(Expression.Assign(t, ticks.Type == typeof(long) ? ticks : Expression.Convert(ticks, typeof(long))));
        perEvent.Add(Expression.Assign(Expression.ArrayAccess(starts, i), t));

        for (int k = 0; k < chains.Count; k++)
        {
            var outputType = outputTypes[k];
            var outStart = Expression.Variable(typeof(long[]), "start" + k);
            var outPayload = Expression.Variable(outputType.MakeArrayType(), "payload" + k);
            var n = Expression.Variable(typeof(int), "n" + k);
            locals.Add(outStart);
            locals.Add(outPayload);
            locals.Add(n);
            setup.Add(Expression.Assign(outStart, Expression.Convert(Expression.ArrayIndex(columns, Expression.Constant(2 * k)), typeof(long[]))));
            setup.Add(Expression.Assign(outPayload, Expression.Convert(Expression.ArrayIndex(columns, Expression.Constant((2 * k) + 1)), outPayload.Type)));
            setup.Add(Expression.Assign(n, Expression.Constant(0)));

            var skip = Expression.Label("skip" + k);
            var variables = new List<ParameterExpression>();
            var body = new List<Expression>();
            Expression current = v0;
            foreach (var step in chains[k])
            {
                var value = Internal.LambdaInliner.Inline(step.Lambda, current);
                if (step.IsFilter)
                {
                    body.Add(Expression.IfThen(Expression.Not(value), Expression.Goto(skip)));
                }
                else
                {
                    var next = Expression.Variable(step.Lambda.ReturnType, "v" + k + "_" + variables.Count);
                    variables.Add(next);
                    body.Add(Expression.Assign(next, value));
                    current = next;
                }
            }

            body.Add(Expression.Assign(Expression.ArrayAccess(outStart, n), t));
            body.Add(Expression.Assign(Expression.ArrayAccess(outPayload, n), current.Type == outputType ? current : Expression.Convert(current, outputType)));
            body.Add(Expression.PreIncrementAssign(n));
            perEvent.Add(Expression.Block(variables, body));
            perEvent.Add(Expression.Label(skip));
            finish.Add(Expression.Assign(Expression.ArrayAccess(counts, Expression.Constant(k)), n));
        }

        var loop = Expression.Loop(
            Expression.Block(
                Expression.IfThen(Expression.GreaterThanOrEqual(i, count), Expression.Break(endOfSlice)),
                Expression.Block(perEvent),
                Expression.PreIncrementAssign(i)),
            endOfSlice);

        return Expression.Lambda<Action<TIn[], int, long[], object[], int[], int>>(
            Expression.Block(locals, [.. setup, Expression.Assign(i, Expression.Constant(0)), loop, .. finish]),
            source,
            offset,
            starts,
            columns,
            counts,
            count);
    }
}
