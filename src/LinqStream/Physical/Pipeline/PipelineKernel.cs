using System.Linq.Expressions;
using LinqStream.Physical.Kernels;

namespace LinqStream.Physical.Pipeline;

/// <summary>One step of a fused loop: a filter (<c>Where</c>) or a projection (<c>Select</c>) over the previous step's value.</summary>
internal sealed record PipelineKernelStep(bool IsFilter, LambdaExpression Lambda)
{
    public string OperatorName => IsFilter ? "Where" : "Select";

    public override string ToString() => $"{OperatorName}({Lambda})";
}

/// <summary>Compiles a chain such as <c>Where(a).Select(b).Where(c)</c> into one loop over the batch.</summary>
/// <remarks>
/// Before: three operators, three passes over the batch. After, one loop over the present events (a filter-bit word at a time,
/// the word's bits in a register: <see cref="KernelBuilder.ForPresent"/>):
/// <code>for each present i: v0 = p[i]; if (!a(v0)) { bits |= bit(i); continue; } v1 = b(v0); if (!c(v1)) { bits |= bit(i); continue; } out[i] = v1;</code>
/// </remarks>
internal static class PipelineKernel
{
    /// <summary>Compiles <c>(input, absent, output, count)</c>; <c>output</c> is ignored when the chain has no projection.</summary>
    public static Action<TIn[], ulong[], TOut[]?, int> Compile<TIn, TOut>(IReadOnlyList<PipelineKernelStep> steps, KernelCompiler? kernels = null)
    {
        kernels ??= KernelCompiler.Shared;
        return RecipeOf(nameof(PipelineKernel), steps) is { } recipe
            ? kernels.Compile(recipe, () => Build<TIn, TOut>(steps))
            : kernels.Compile(Build<TIn, TOut>(steps));
    }

    /// <summary>
    /// The recipe of a kernel with a chain (<see cref="KernelRecipe"/>): the <paramref name="leading"/> lambdas, then the steps' lambdas,
    /// and a flag bit per step that filters; null for a chain of more than 64 steps (then the kernel is built to be looked up).
    /// </summary>
    internal static KernelRecipe? RecipeOf(string kind, IReadOnlyList<PipelineKernelStep> steps, params ReadOnlySpan<Expression> leading)
    {
        if (steps.Count > 64)
        {
            return null;
        }

        int offset = leading.Length;
        var parts = new Expression[steps.Count + offset];
        leading.CopyTo(parts);

        ulong filters = 0;
        for (int k = 0; k < steps.Count; k++)
        {
            parts[k + offset] = steps[k].Lambda;
            if (steps[k].IsFilter)
            {
                filters |= 1UL << k;
            }
        }

        return new KernelRecipe(kind, filters, parts);
    }

    private static Expression<Action<TIn[], ulong[], TOut[]?, int>> Build<TIn, TOut>(IReadOnlyList<PipelineKernelStep> steps)
    {
        var input = Expression.Parameter(typeof(TIn[]), "input");
        var absent = Expression.Parameter(typeof(ulong[]), "absent");
        var output = Expression.Parameter(typeof(TOut[]), "output");
        var count = Expression.Parameter(typeof(int), "count");
        var i = Expression.Variable(typeof(int), "i");
        bool projects = HasProjection(steps);

        var loop = KernelBuilder.ForPresent(i, absent, count, HasFilter(steps), (@continue, markAbsent) =>
        {
            var variables = new List<ParameterExpression>();
            var body = new List<Expression>();
            var current = Expression.Variable(typeof(TIn), "v0");
            variables.Add(current);
            body.Add(Expression.Assign(current, Expression.ArrayIndex(input, i)));
            foreach (var step in steps)
            {
                var value = Internal.LambdaInliner.Inline(step.Lambda, current);
                if (step.IsFilter)
                {
                    body.Add(Expression.IfThen(
                        Expression.Not(value),
                        Expression.Block(markAbsent, Expression.Continue(@continue))));
                }
                else
                {
                    var next = Expression.Variable(step.Lambda.ReturnType, "v" + variables.Count);
                    variables.Add(next);
                    body.Add(Expression.Assign(next, value));
                    current = next;
                }
            }

            if (projects)
            {
                body.Add(Expression.Assign(Expression.ArrayAccess(output, i), current));
            }

            return Expression.Block(variables, body);
        });

        return Expression.Lambda<Action<TIn[], ulong[], TOut[]?, int>>(Expression.Block([i], loop), input, absent, output, count);
    }

    private static bool HasFilter(IReadOnlyList<PipelineKernelStep> steps)
    {
        foreach (var step in steps)
        {
            if (step.IsFilter)
            {
                return true;
            }
        }

        return false;
    }

    public static bool HasProjection(IReadOnlyList<PipelineKernelStep> steps)
    {
        foreach (var step in steps)
        {
            if (!step.IsFilter)
            {
                return true;
            }
        }

        return false;
    }
}
