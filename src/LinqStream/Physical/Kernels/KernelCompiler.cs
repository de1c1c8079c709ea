using System.Linq.Expressions;

namespace LinqStream.Physical.Kernels;

/// <summary>Compiles kernel lambdas, once per <see cref="KernelShape"/> when it has a <see cref="CompiledKernelCache"/>.</summary>
/// <remarks>
/// Every kernel of a query (event times, keys, Where/Select chains, aggregate inputs and results, join results) is compiled
/// here, so that a query built twice with other captured values compiles nothing the second time. A kernel compiled through
/// the cache reads its captured objects into locals once per call (per batch for the loop kernels), then runs the same loop.
/// </remarks>
internal sealed class KernelCompiler(CompiledKernelCache? cache)
{
    /// <summary>Gets the compiler every query uses unless told otherwise, with a cache of 512 shapes.</summary>
    public static KernelCompiler Shared { get; } = new(new CompiledKernelCache(512));

    /// <summary>Gets a compiler that compiles every lambda (compilation benchmarks, and a baseline for the cache tests).</summary>
    public static KernelCompiler Uncached { get; } = new(null);

    /// <summary>Gets the cache, or null when every lambda is compiled.</summary>
    public CompiledKernelCache? Cache { get; } = cache;

    /// <summary>Compiles <paramref name="lambda"/>, or instantiates the kernel already compiled for its shape.</summary>
    public TDelegate Compile<TDelegate>(Expression<TDelegate> lambda)
        where TDelegate : Delegate
    {
        if (Cache is not { Capacity: > 0 } || KernelShape.Of(lambda) is not { } shape)
        {
            return lambda.Compile();
        }

        var factory = (Func<object?[], TDelegate>)Cache.GetOrAdd(shape, static s => Expression.Lambda<Func<object?[], TDelegate>>(s.Parameterized, s.Parameters).Compile());
        return factory(shape.Values);
    }
}
