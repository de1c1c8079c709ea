using System.Linq.Expressions;
using LinqStream.Physical.Kernels;
using LinqStream.Plan;

namespace LinqStream.Physical.Pipeline;

/// <summary>Compiles a chain such as <c>Where(a).Select(b).Where(c)</c> into one loop over the batch.</summary>
/// <remarks>
/// Before: three operators, three passes over the batch. After:
/// <code>for i: if absent(i) continue; v0 = p[i]; if (!a(v0)) { setAbsent(i); continue; } v1 = b(v0); if (!c(v1)) { setAbsent(i); continue; } out[i] = v1;</code>
/// </remarks>
internal static class PipelineKernel
{
    /// <summary>Compiles <c>(input, absent, output, count)</c>; <c>output</c> is ignored when the chain has no projection.</summary>
    public static Action<TIn[], ulong[], TOut[]?, int> Compile<TIn, TOut>(IReadOnlyList<PipelineStep> steps)
    {
        var input = Expression.Parameter(typeof(TIn[]), "input");
        var absent = Expression.Parameter(typeof(ulong[]), "absent");
        var output = Expression.Parameter(typeof(TOut[]), "output");
        var count = Expression.Parameter(typeof(int), "count");
        var i = Expression.Variable(typeof(int), "i");
        bool projects = HasProjection(steps);

        var loop = KernelBuilder.For(i, count, @continue =>
        {
            var variables = new List<ParameterExpression>();
            var body = new List<Expression> { Expression.IfThen(KernelBuilder.IsAbsent(absent, i), Expression.Continue(@continue)) };
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
                        Expression.Block(KernelBuilder.SetAbsent(absent, i), Expression.Continue(@continue))));
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

        var lambda = Expression.Lambda<Action<TIn[], ulong[], TOut[]?, int>>(Expression.Block([i], loop), input, absent, output, count);
        return lambda.Compile();
    }

    public static bool HasProjection(IReadOnlyList<PipelineStep> steps)
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
