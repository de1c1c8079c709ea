using System.Linq.Expressions;

namespace LinqStream.Physical.Kernels;

/// <summary>
/// What a kernel builder builds its loop from: a kind (one per builder), the options that change the loop's structure, the
/// user's lambdas it inlines and the objects it embeds itself. A query compiled again with other captured values finds its kernels
/// by these (<see cref="KernelCompiler.Compile{TDelegate}(in KernelRecipe, Func{Expression{TDelegate}})"/>), without building the loop
/// tree and walking it for its <see cref="KernelShape"/> (issue #19: that was 70 % of a plan-cache hit's allocation).
/// </summary>
/// <remarks>
/// The builder must be a function of the recipe: same kind, flags, delegate type, lambda shapes and extras' types → same loop shape,
/// and every object the loop captures is one of the lambdas' lifted constants or one of <see cref="Extras"/>. An object it embeds
/// without declaring it is detected on the first compile (that recipe is then never cached); a structure that depends on anything
/// else is not, except by <see cref="KernelCompiler.VerifyRecipes"/> (on in the tests).
/// </remarks>
internal readonly struct KernelRecipe
{
    /// <summary>Initializes a recipe.</summary>
    /// <param name="kind">The builder, one constant string per builder.</param>
    /// <param name="flags">The builder's options that change the loop's structure (a bit each).</param>
    /// <param name="parts">
    /// The user's lambdas the builder inlines, in a fixed order; any expression the builder splices in may be a part (a parameter
    /// stands for itself: its ordinal in the walk of the parts before it).
    /// </param>
    /// <param name="extras">The objects the builder embeds as constants itself (their runtime types are part of the key), or null.</param>
    public KernelRecipe(string kind, ulong flags, IReadOnlyList<Expression> parts, IReadOnlyList<object?>? extras = null)
    {
        Kind = kind;
        Flags = flags;
        Parts = parts;
        Extras = extras;
    }

    /// <summary>Gets the builder's kind.</summary>
    public string Kind { get; }

    /// <summary>Gets the builder's structure-affecting options.</summary>
    public ulong Flags { get; }

    /// <summary>Gets the user's lambdas (and other expressions) the builder splices in.</summary>
    public IReadOnlyList<Expression> Parts { get; }

    /// <summary>Gets the objects the builder embeds as constants itself, or null.</summary>
    public IReadOnlyList<object?>? Extras { get; }

    /// <summary>
    /// Gets the recipe's key for a kernel of type <paramref name="delegateType"/> and the objects the built kernel may capture (the
    /// lambdas' lifted constants in walk order, then the extras); null when a lambda holds a node shapes do not compare.
    /// </summary>
    /// <remarks>
    /// The key ends with the values' alias pattern (which value is the same object as an earlier one), so two recipes of one key
    /// share their identities, and a value of the built kernel found at one index of the first query's values is at the same index
    /// of any other query's.
    /// </remarks>
    public Key? KeyOf(Type delegateType)
    {
        var walker = new Walker();
        var tokens = walker.Tokens;
        tokens.Add(Kind);
        tokens.Add(delegateType);
        tokens.Add(Flags);
        walker.Add(Parts.Count);
        foreach (var part in Parts)
        {
            walker.Visit(part);
        }

        if (walker.Unsupported)
        {
            return null;
        }

        var values = walker.Values;
        int count = Extras?.Count ?? 0;
        walker.Add(count);
        for (int i = 0; i < count; i++)
        {
            var extra = Extras![i];
            tokens.Add(extra?.GetType());
            values.Add(extra);
        }

        // The alias pattern: only the values that repeat an earlier one, as (index, first index) pairs.
        for (int i = 1; i < values.Count; i++)
        {
            int first = FirstIndexOf(values, values[i], i);
            if (first < i)
            {
                walker.Add(i);
                walker.Add(first);
            }
        }

        return new Key(new KernelShape.ShapeKey([.. tokens]), values);
    }

    /// <summary>The index of the first of <paramref name="values"/>' first <paramref name="count"/> that is <paramref name="value"/> (by reference), or <paramref name="count"/>.</summary>
    internal static int FirstIndexOf(List<object?> values, object? value, int count)
    {
        for (int j = 0; j < count; j++)
        {
            if (ReferenceEquals(values[j], value))
            {
                return j;
            }
        }

        return count;
    }

    /// <summary>A recipe's cache key and the values a kernel built from it may capture.</summary>
    /// <param name="Tokens">The key: kind, delegate type, flags, the lambdas' shape tokens, the extras' types and the alias pattern.</param>
    /// <param name="Values">The lambdas' lifted constants in walk order, then the extras.</param>
    internal sealed record Key(KernelShape.ShapeKey Tokens, List<object?> Values);

    /// <summary>Writes the lambdas' tokens as <see cref="KernelShape"/> does and collects their lifted constants; rewrites nothing.</summary>
    private sealed class Walker : ShapeWalker
    {
        public List<object?> Values { get; } = [];

        /// <summary>Writes an integer token (a shared box for small ones).</summary>
        public void Add(int value) => Tokens.Add(Box(value));

        protected override Expression VisitConstant(ConstantExpression node)
        {
            if (!KernelShape.IsLifted(node))
            {
                Tokens.Add(node.Value ?? NullToken);
                return node;
            }

            Tokens.Add(Box(Values.Count));
            Values.Add(node.Value);
            return node;
        }
    }
}
