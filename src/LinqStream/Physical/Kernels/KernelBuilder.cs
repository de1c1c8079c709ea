using System.Linq.Expressions;

namespace LinqStream.Physical.Kernels;

/// <summary>Pieces of generated batch loops: the loop itself, the filter-bit tests, and splicing of user lambdas.</summary>
/// <remarks>
/// A user's lambda is inlined into the loop body by replacing its parameter, so a compiled kernel makes no delegate call per
/// event. Compilation happens once per query, with <see cref="LambdaExpression.Compile()"/> (no C# compiler at run time).
/// </remarks>
internal static class KernelBuilder
{
    private static readonly System.Reflection.MethodInfo s_trailingZeroCount =
        typeof(System.Numerics.BitOperations).GetMethod(nameof(System.Numerics.BitOperations.TrailingZeroCount), [typeof(ulong)])!;

    /// <summary><c>(absent[i &gt;&gt; 6] &amp; (1UL &lt;&lt; (i &amp; 63))) != 0</c>.</summary>
    public static Expression IsAbsent(Expression absent, Expression index) =>
        Expression.NotEqual(
            Expression.And(Word(absent, index), Bit(index)),
            Expression.Constant(0UL));

    private static IndexExpression Word(Expression absent, Expression index) =>
        Expression.ArrayAccess(absent, Expression.RightShift(index, Expression.Constant(6)));

    // IL's shl on 64 bits is undefined past 63, so mask the count as C# does.
    private static BinaryExpression Bit(Expression index) =>
        Expression.LeftShift(Expression.Constant(1UL), Expression.And(index, Expression.Constant(63)));

    /// <summary>
    /// A loop over the present events only, a filter-bit word at a time; <paramref name="body"/> gets the label that moves on to the
    /// next event and an expression that marks the current event absent:
    /// <code>
    /// for (first = 0; first &lt; count; first += 64) {
    ///     bits = absent[first &gt;&gt; 6]; present = ~bits &amp; (events of this word below count);
    ///     while (present != 0) { j = tzcnt(present); present &amp;= present - 1; i = first + j; body }
    ///     absent[first &gt;&gt; 6] = bits;   // only when the body can mark events absent
    /// }
    /// </code>
    /// </summary>
    /// <remarks>
    /// Issue #19: a filter that sets the bit of each event it rejects in the array (<c>absent[i &gt;&gt; 6] |= bit</c>, then the next
    /// event's test reads the same word) chains every event through a store and a load of one memory word; here the word's bits
    /// live in a register and are stored once per 64 events, and absent events cost nothing (an entity split off NEXMark's
    /// stream leaves most of a batch absent). The order of the events and the bits written are the per-event loop's.
    /// </remarks>
    public static Expression ForPresent(ParameterExpression index, Expression absent, Expression count, bool marksAbsent, Func<LabelTarget, Expression, Expression> body)
    {
        var first = Expression.Variable(typeof(int), "first");
        var bits = Expression.Variable(typeof(ulong), "bits");
        var present = Expression.Variable(typeof(ulong), "present");
        var j = Expression.Variable(typeof(int), "j");
        var left = Expression.Variable(typeof(int), "left");
        var nextWord = Expression.Label("nextWord");
        var endOfWords = Expression.Label("endOfWords");
        var nextEvent = Expression.Label("nextEvent");
        var word = Expression.ArrayAccess(absent, Expression.RightShift(first, Expression.Constant(6)));
        var markAbsent = Expression.OrAssign(bits, Bit(j));
        var tzcnt = s_trailingZeroCount;

        var perEvent = Expression.Loop(
            Expression.Block(
                Expression.IfThen(Expression.Equal(present, Expression.Constant(0UL)), Expression.Break(nextWord)),
                Expression.Assign(j, Expression.Call(tzcnt, present)),
                Expression.AndAssign(present, Expression.Subtract(present, Expression.Constant(1UL))),
                Expression.Assign(index, Expression.Add(first, j)),
                body(nextEvent, markAbsent),
                Expression.Label(nextEvent)),
            nextWord);

        var perWord = new List<Expression>
        {
            Expression.IfThen(Expression.GreaterThanOrEqual(first, count), Expression.Break(endOfWords)),
            Expression.Assign(bits, word),
            Expression.Assign(present, Expression.Not(bits)),
            Expression.Assign(left, Expression.Subtract(count, first)),
            Expression.IfThen(
                Expression.LessThan(left, Expression.Constant(64)),
                Expression.AndAssign(present, Expression.Subtract(Expression.LeftShift(Expression.Constant(1UL), left), Expression.Constant(1UL)))),
            perEvent,
        };
        if (marksAbsent)
        {
            perWord.Add(Expression.Assign(word, bits));
        }

        perWord.Add(Expression.AddAssign(first, Expression.Constant(64)));
        return Expression.Block(
            [first, bits, present, j, left],
            Expression.Assign(first, Expression.Constant(0)),
            Expression.Loop(Expression.Block(perWord), endOfWords));
    }

    /// <summary><c>for (i = 0; i &lt; count; i++) { body(i, continueLabel) }</c>.</summary>
    public static Expression For(ParameterExpression index, Expression count, Func<LabelTarget, Expression> body)
    {
        var @break = Expression.Label("break");
        var @continue = Expression.Label("continue");
        return Expression.Block(
            Expression.Assign(index, Expression.Constant(0)),
            Expression.Loop(
                Expression.Block(
                    Expression.IfThen(Expression.GreaterThanOrEqual(index, count), Expression.Break(@break)),
                    body(@continue),
                    Expression.Label(@continue),
                    Expression.PreIncrementAssign(index)),
                @break));
    }
}
