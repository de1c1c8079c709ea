using System.Linq.Expressions;
using LinqStream.Physical.Kernels;
using LinqStream.Plan;
using LinqStream.Query.Optimization;
using LinqStream.Query.Physicalization;
using LinqStream.Query.Preprocessing;
using LinqStream.Query.Translation;

namespace LinqStream.Query;

/// <summary>The query compiler: every stage, in order, in one method.</summary>
/// <remarks>See docs/architecture.md for one query walked through these stages, with the file of each.</remarks>
internal static class QueryCompiler
{
    /// <summary>Compiles <paramref name="query"/> with the shared kernel cache.</summary>
    public static CompiledQuery<T> Compile<T>(Expression query) => Compile<T>(query, KernelCompiler.Shared);

    /// <summary>Compiles <paramref name="query"/>, compiling (or reusing from the cache) its kernels with <paramref name="kernels"/>.</summary>
    /// <remarks>The plan cache (<see cref="PlanCache.Shared"/>) is used when <paramref name="kernels"/> caches too; an uncached compiler compiles every stage.</remarks>
    /// <exception cref="QueryTranslationException">The query cannot run as a stream; raised by translation only.</exception>
    public static CompiledQuery<T> Compile<T>(Expression query, KernelCompiler kernels) =>
        Compile<T>(query, kernels, kernels.Cache is { Capacity: > 0 } ? PlanCache.Shared : null);

    /// <summary>
    /// Compiles <paramref name="query"/> for a job whose keyed state is off the heap when <paramref name="keyedStateOffHeap"/> is set
    /// (<c>JobOptions.State</c>: the optimizer keeps the forms the state backend spills); such a plan bypasses the plan cache, whose
    /// plans are the heap's.
    /// </summary>
    /// <exception cref="QueryTranslationException">The query cannot run as a stream; raised by translation only.</exception>
    public static CompiledQuery<T> Compile<T>(Expression query, bool keyedStateOffHeap) =>
        Compile<T>(query, KernelCompiler.Shared, KernelCompiler.Shared.Cache is { Capacity: > 0 } ? PlanCache.Shared : null, keyedStateOffHeap);

    /// <summary>
    /// Compiles <paramref name="query"/> with the kernel compiler and plan cache given (null: no plan cache); with
    /// <paramref name="keyedStateOffHeap"/> for a job whose keyed state is off the heap, without the plan cache.
    /// </summary>
    /// <exception cref="QueryTranslationException">The query cannot run as a stream; raised by translation only.</exception>
    public static CompiledQuery<T> Compile<T>(Expression query, KernelCompiler kernels, PlanCache? plans, bool keyedStateOffHeap = false)
    {
        var context = new QueryCompilationContext(typeof(T), kernels) { KeyedStateOffHeap = keyedStateOffHeap };
        var shape = plans is { Capacity: > 0 } && !keyedStateOffHeap ? QueryShape.Of(query, typeof(T)) : null; // the cache holds the heap's plans
        var plan = shape is null ? null : plans!.Find(shape);                  // 0. a plan of this shape, bound to this query's sources and closures
        if (plan is null)
        {
            var expression = CovariantUpcastRewriter.Process(query, typeof(T));    // 1. preprocessing: a covariant IQStream<T>'s upcasts made explicit,
            expression = GroupShapeRewriter.Process(expression);                   //    group e.X by k and GroupBy(k).SelectMany(...) as GroupBy(k).Select
            PlanNode logical = QueryTranslator.Translate(expression, context);     // 2. translation: LINQ calls → logical plan (the only stage that refuses)
            PlanNode optimized = QueryOptimizer.Process(logical, context);         // 3. logical passes, in order (QueryOptimizer.Passes)
            plan = new CachedPlan(logical, optimized, context.Options, [.. context.Log]);
            if (shape is not null)
            {
                plans!.Add(shape, plan);
            }
        }
        else
        {
            context.Options = plan.Options;
            context.Log.AddRange(plan.Log);
        }

        if (MembersRead.HasEventSource(plan.Optimized))                         //    what each event source's events are read for (a JSON source decodes only
        {                                                                        //    that); only an EventSource<T> uses it, so other plans skip the analysis
            context.MembersRead = MembersRead.Of(plan.Optimized);
            foreach (var (source, members) in context.MembersRead)
            {
                if (Runtime.Ingress.EventSources.IsEventSource(source.Source))
                {
                    context.Log.Add(MembersRead.Describe(source, members));
                }
            }
        }

        var root = Physicalizer.Process<T>(plan.Optimized, context);           // 4. physical planning: typed factories, operators hold their kernels' lambdas
        var parallel = Parallel.ParallelPlanner.Plan(root, context.Options);   //    stages and exchanges when Parallelism > 1
        KernelCompilation.Process(root);                                       // 5. kernel compilation, last, through context.Kernels (the cache)
        return new CompiledQuery<T>
        {
            Root = root,
            Options = context.Options,
            Logical = plan.Logical,     // printed when read (Explain), not on every compile: each lambda's ToString
            Optimized = plan.Optimized,
            Log = context.Log,
            Parallel = parallel,
        };
    }
}
