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

    /// <summary>
    /// Gets or sets a value indicating whether a kernel found by its recipe is checked against the kernel its builder builds (every
    /// recipe hit then builds the tree and walks its shape, and throws when the two differ); on in the tests.
    /// </summary>
    internal static bool VerifyRecipes { get; set; }

    /// <summary>Compiles <paramref name="lambda"/>, or instantiates the kernel already compiled for its shape.</summary>
    public TDelegate Compile<TDelegate>(Expression<TDelegate> lambda)
        where TDelegate : Delegate
    {
        if (Cache is not { Capacity: > 0 } || KernelShape.Of(lambda) is not { } shape)
        {
            return lambda.Compile();
        }

        return Instantiate<TDelegate>(Cache, shape);
    }

    /// <summary>
    /// Instantiates the kernel cached for <paramref name="recipe"/> without building it, or builds it with <paramref name="build"/> and
    /// compiles it as <see cref="Compile{TDelegate}(Expression{TDelegate})"/> does (one cache lookup, hit or miss, either way).
    /// </summary>
    /// <remarks>
    /// On the first build of a recipe, each object the kernel captures is looked up among the recipe's values (by reference); when
    /// one is not there (the builder embedded an object it did not declare), the recipe is not cached and it is built every time.
    /// </remarks>
    public TDelegate Compile<TDelegate>(in KernelRecipe recipe, Func<Expression<TDelegate>> build)
        where TDelegate : Delegate
    {
        if (Cache is not { Capacity: > 0 } cache || recipe.KeyOf(typeof(TDelegate)) is not { } key)
        {
            return Compile(build());
        }

        if (cache.TryGetRecipe(key.Tokens, out var found, out int[] mapping, out var shapeKey))
        {
            var values = new object?[mapping.Length];
            for (int k = 0; k < mapping.Length; k++)
            {
                values[k] = key.Values[mapping[k]];
            }

            if (VerifyRecipes)
            {
                Verify(recipe, build(), shapeKey, values);
            }

            return ((Func<object?[], TDelegate>)found)(values);
        }

        var lambda = build();
        if (KernelShape.Of(lambda) is not { } shape)
        {
            return lambda.Compile();
        }

        var kernel = Instantiate<TDelegate>(cache, shape);
        if (MappingOf(shape.Values, key.Values) is { } built)
        {
            cache.AddRecipe(recipe.Kind, key.Tokens, shape.Key, built);
        }

        return kernel;
    }

    private static TDelegate Instantiate<TDelegate>(CompiledKernelCache cache, KernelShape shape)
        where TDelegate : Delegate
    {
        var factory = (Func<object?[], TDelegate>)cache.GetOrAdd(shape, static s => Expression.Lambda<Func<object?[], TDelegate>>(s.Parameterized, s.Parameters).Compile());
        return factory(shape.Values);
    }

    /// <summary>For each of the built kernel's values, the index of the first recipe value that is the same object; null when one is not found.</summary>
    private static int[]? MappingOf(object?[] built, List<object?> recipe)
    {
        var mapping = new int[built.Length];
        for (int k = 0; k < built.Length; k++)
        {
            int index = KernelRecipe.FirstIndexOf(recipe, built[k], recipe.Count);
            if (index == recipe.Count)
            {
                return null;
            }

            mapping[k] = index;
        }

        return mapping;
    }

    private static void Verify(in KernelRecipe recipe, LambdaExpression lambda, KernelShape.ShapeKey expected, object?[] values)
    {
        var shape = KernelShape.Of(lambda) ?? throw new InvalidOperationException($"The {recipe.Kind} recipe was cached, but the kernel it builds now has no shape: {lambda}");
        if (!shape.Key.Equals(expected))
        {
            throw new InvalidOperationException($"The {recipe.Kind} recipe's cached kernel has another shape than the kernel it builds now: the builder's structure depends on something its recipe does not hold. Kernel: {lambda}");
        }

        for (int k = 0; k < values.Length; k++)
        {
            if (!ReferenceEquals(shape.Values[k], values[k]))
            {
                throw new InvalidOperationException($"The {recipe.Kind} recipe maps the kernel's captured object {k} ({shape.Values[k]?.GetType().Name}) to another object ({values[k]?.GetType().Name}): the builder's captures depend on something its recipe does not hold. Kernel: {lambda}");
            }
        }
    }
}
