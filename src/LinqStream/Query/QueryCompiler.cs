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
    /// <exception cref="QueryTranslationException">The query cannot run as a stream; raised by translation only.</exception>
    public static CompiledQuery<T> Compile<T>(Expression query, KernelCompiler kernels)
    {
        var context = new QueryCompilationContext(typeof(T), kernels);
        var expression = CovariantUpcastRewriter.Process(query, typeof(T));    // 1. preprocessing: a covariant IQStream<T>'s upcasts made explicit,
        expression = GroupShapeRewriter.Process(expression);                   //    group e.X by k and GroupBy(k).SelectMany(...) as GroupBy(k).Select
        PlanNode logical = QueryTranslator.Translate(expression, context);     // 2. translation: LINQ calls → logical plan (the only stage that refuses)
        PlanNode optimized = QueryOptimizer.Process(logical, context);         // 3. logical passes, in order (QueryOptimizer.Passes)
        var root = Physicalizer.Process<T>(optimized, context);                // 4. physical planning: typed factories, operators hold their kernels' lambdas
        var parallel = Parallel.ParallelPlanner.Plan(root, context.Options);   //    stages and exchanges when Parallelism > 1
        KernelCompilation.Process(root);                                       // 5. kernel compilation, last, through context.Kernels (the cache)
        return new CompiledQuery<T>
        {
            Root = root,
            Options = context.Options,
            LogicalPlan = PlanPrinter.Print(logical),
            OptimizedPlan = PlanPrinter.Print(optimized),
            Log = context.Log,
            Parallel = parallel,
        };
    }
}
