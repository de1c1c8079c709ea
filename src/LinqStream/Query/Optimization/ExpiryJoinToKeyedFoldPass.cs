using System.Linq.Expressions;
using LinqStream.Internal;
using LinqStream.Physical.Ingress;
using LinqStream.Physical.Join;
using LinqStream.Physical.Lifetime;
using LinqStream.Physical.Pipeline;
using LinqStream.Physical.Windows;
using LinqStream.Physical.Windows.KeyedFold;
using LinqStream.Plan;
using LinqStream.Temporal;

namespace LinqStream.Query.Optimization;

/// <summary>
/// Replaces "the best matching event per key, closed by the key's own expiry" (NEXMark q9, and q4 above it) by a fold per open
/// key: the closes are read <c>D</c> earlier, as intervals, so each match is folded into its group when its event arrives, and the
/// join holds the open closes instead of every event of the last <c>D</c>.
/// </summary>
/// <remarks>
/// <para>Before (each step is checked, else the plan is left alone):</para>
/// <code>
/// WindowAggregate[Tumbling(1 tick), key k, g =&gt; R(g.Key, g.Window, g.Aggregate(agg))](
///   Where/Select chain(Join(From(closes, time t), ExtendLifetime(D, E), lk, rk, (a, e) =&gt; r)))
/// </code>
/// <para>After:</para>
/// <code>
/// KeyedFold[k, agg, R](
///   Where/Select chain over Closing(Join(From(closes, start t - D, end t + 1), E, lk, rk, (a, e) =&gt; new Closing(t(a), r))))
/// </code>
/// <para>
/// Why the answers agree: a close at <c>t</c> lives <c>[t, t + 1)</c> and an event of <c>E</c> extended by <c>D</c> lives
/// <c>[s, end + D)</c>; they overlap when <c>s ≤ t &lt; end + D</c>, which is exactly when <c>[t - D, t + 1)</c> overlaps
/// <c>[s, end)</c>. So the new join makes the same pairs, only earlier, each tagged with its close <c>t</c>; the chain filters and
/// projects the same values; and the one-tick window put every pair of close <c>t</c> into the window <c>[t, t + 1)</c> of its
/// key, which is the fold's group <c>(t, k(x))</c>, emitted at the same watermark, in the same order (by close, then stable key
/// order), with the same lifetime. Shifting the closes' ingress by a constant keeps its order, its watermark (shifted) and which
/// events are late.
/// </para>
/// <para>
/// Conditions: the aggregate is one unfiltered user aggregate marked <see cref="CommutativeAggregateAttribute"/> (the window folds
/// a group in the join's probe order, the fold in arrival order); the closes are a source of point events read directly by the
/// join, whose policy never moves an event (<c>Drop</c>, or <c>Reorder</c> dropping late events; <c>Throw</c> would fail at a
/// shifted time) and whose time is provably far from the ends of <c>long</c> (a <see cref="DateTime"/> or
/// <see cref="DateTimeOffset"/>, its <c>Ticks</c>/<c>UtcTicks</c> plus or minus a constant, or an <see cref="int"/>), so that
/// <c>t - D</c> and <c>t + 1</c> cannot overflow; <c>0 ≤ D ≤ 2^61</c> ticks; the join, the closes and the chain are not shared.
/// Runs only under <see cref="ErrorPolicy.Fail"/> and when <c>QueryOptions.RewriteSubPlans</c> is on.
/// </para>
/// </remarks>
internal sealed class ExpiryJoinToKeyedFoldPass(QueryOptions options)
    : OptionalPlanPass("ExpiryJoinToKeyedFold", options.RewriteSubPlans && options.OnError == ErrorPolicy.Fail)
{
    /// <summary>The largest constant added to a time, and the largest <c>D</c>: with ticks of a date (0 to 3.2e18) nothing overflows.</summary>
    private const long Bound = 1L << 61;

    protected override PlanNode Rewrite(PlanNode node)
    {
        if (!Enabled
            || node is not AggregateNode { Window: { Kind: WindowKind.Tumbling, Size: 1 }, Key: { } key, Aggregates: { BufferReason: null, Calls: [var call] } aggregates } aggregate
            || call is not { Kind: AggregateKind.User, Filter: null, Value: { } value, Instance: { } instance, InstanceTypes: [_, _, var aggregateResult] types }
            || !instance.GetType().IsDefined(typeof(CommutativeAggregateAttribute), inherit: false))
        {
            return node;
        }

        // The filters and projections between the join and the window, top first.
        var chain = new List<UnaryNode>();
        var below = aggregate.Source;
        while (below is WhereNode or SelectNode && !IsShared(below))
        {
            chain.Add((UnaryNode)below);
            below = ((UnaryNode)below).Source;
        }

        if (below is not JoinNode { Kind: JoinKind.Inner, Result: { } result, Left: SourceNode { End: null } closes, Right: LifetimeNode { Kind: LifetimeKind.Extend } extended } join
            || IsShared(join)
            || IsShared(closes)
            || extended.Ticks is < 0 or > Bound
            || closes.Policy.Kind is IngressPolicyKind.Throw or IngressPolicyKind.Adjust
            || closes.Policy.LateAction != IngressPolicyKind.Drop
            || !IsBoundedTime(closes.Time.Body))
        {
            return node;
        }

        // The closes, read D earlier as [t - D, t + 1); the join tags each pair with t.
        long lookBack = extended.Ticks;
        var time = EventTimeKernel.ToTicks(closes.Time);
        var a = Expression.Parameter(closes.Type, time.Parameters[0].Name);
        var t = LambdaInliner.Inline(time, a);
        var early = closes.WithLifetime(
            Expression.Lambda(Expression.Subtract(t, Expression.Constant(lookBack)), a),
            Expression.Lambda(Expression.Add(t, Expression.Constant(1L)), a));
        // A query's join result is C#'s transparent identifier new { a, b } (an object per match); when the chain reads only its two
        // members, the pair goes on as a struct instead and the chain reads them from it (issue #19: q9's 45 B/event).
        var pair = TransparentPair(result, chain, key, value);
        var joined = pair is null
            ? result.Body
            : Expression.New(pair.Type.GetConstructor([result.Parameters[0].Type, result.Parameters[1].Type])!, result.Parameters[0], result.Parameters[1]);
        var tagged = Expression.Lambda(
            Tag(LambdaInliner.Inline(time, result.Parameters[0]), joined),
            result.Parameters);
        PlanNode input = new JoinNode(early, extended.Source, JoinKind.Inner, join.LeftKey, join.RightKey, tagged);

        // The same chain over the tagged values (over the pair until the first projection).
        for (int i = chain.Count - 1; i >= 0; i--)
        {
            var c = Expression.Parameter(input.Type, "c");
            var x = Expression.Property(c, nameof(Closing<int>.Value));
            input = chain[i] switch
            {
                WhereNode where => (PlanNode)new WhereNode(input, Expression.Lambda(Read(pair, where.Predicate, x), c)),
                SelectNode select => new SelectNode(input, Expression.Lambda(Tag(Expression.Property(c, nameof(Closing<int>.Close)), Read(pair, select.Selector, x)), c)),
                _ => throw new InvalidOperationException("Only filters and projections are in the chain."),
            };
            if (chain[i] is SelectNode)
            {
                pair = null;
            }
        }

        // The window's key, the aggregate's input and the result, over the tagged values.
        var shape = aggregates.Result; // (key, windowStart, windowEnd) => ... aggregate0 ...
        var keyType = shape.Parameters[0].Type;
        var tag = Expression.Parameter(input.Type, "c");
        var tagValue = Expression.Property(tag, nameof(Closing<int>.Value));
        var keyBody = Read(pair, key, tagValue);
        var keyLambda = Expression.Lambda(keyBody.Type == keyType ? keyBody : Expression.Convert(keyBody, keyType), tag);
        var inputLambda = Expression.Lambda(Read(pair, value, tagValue), tag);
        var folded = Expression.Parameter(aggregateResult, "aggregate");
        var read = call.Placeholder.Type == aggregateResult ? (Expression)folded : Expression.Convert(folded, call.Placeholder.Type);
        var body = LambdaInliner.Inline(Expression.Lambda(shape.Body, call.Placeholder), read);
        var resultLambda = Expression.Lambda(body, shape.Parameters[0], shape.Parameters[1], shape.Parameters[2], folded);
        return new KeyedFoldNode(input, new KeyedFoldSpec(keyLambda, inputLambda, resultLambda, instance, types, call.Description, aggregates.EvaluatedCapturedValue));
    }

    /// <summary>
    /// When <paramref name="result"/> is <c>(a, b) =&gt; new { a, b }</c> (an anonymous type of the two parameters, in order) and every
    /// lambda that reads it (the chain up to and including its first projection; with no projection, also the window's key and the
    /// aggregate's input) reads only its two members: the member names and <c>JoinPair&lt;A, B&gt;</c>, else null. An anonymous type's
    /// members return its constructor's arguments, so reading <c>Left</c>/<c>Right</c> of the pair gives what <c>x.a</c>/<c>x.b</c> gave.
    /// </summary>
    private static TransparentIdentifier? TransparentPair(LambdaExpression result, List<UnaryNode> chain, LambdaExpression key, LambdaExpression value)
    {
        if (result.Body is not NewExpression { Members: [var first, var second], Arguments: [ParameterExpression left, ParameterExpression right] } created
            || left != result.Parameters[0]
            || right != result.Parameters[1]
            || !created.Type.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute), inherit: false)
            || !created.Type.Name.Contains("AnonymousType", StringComparison.Ordinal))
        {
            return null;
        }

        var pair = new TransparentIdentifier(
            typeof(JoinPair<,>).MakeGenericType(left.Type, right.Type), MemberName(first), MemberName(second));
        var readers = new List<LambdaExpression>();
        bool projected = false;
        for (int i = chain.Count - 1; i >= 0 && !projected; i--)
        {
            readers.Add(chain[i] is WhereNode where ? where.Predicate : ((SelectNode)chain[i]).Selector);
            projected = chain[i] is SelectNode;
        }

        if (!projected)
        {
            readers.Add(key);
            readers.Add(value);
        }

        var probe = Expression.Parameter(pair.Type, "p");
        foreach (var reader in readers)
        {
            if (PairReader.Rewrite(reader, pair, probe) is null)
            {
                return null;
            }
        }

        return pair;

        static string MemberName(System.Reflection.MemberInfo member) =>
            member is System.Reflection.MethodInfo { Name: var name } && name.StartsWith("get_", StringComparison.Ordinal) ? name[4..] : member.Name;
    }

    /// <summary>The body of <paramref name="lambda"/> over <paramref name="value"/>: inlined, or with its members read from the pair.</summary>
    private static Expression Read(TransparentIdentifier? pair, LambdaExpression lambda, Expression value) =>
        pair is null ? LambdaInliner.Inline(lambda, value) : PairReader.Rewrite(lambda, pair, value)!;

    /// <summary>The struct a transparent identifier becomes, and the names of its two members.</summary>
    private sealed record TransparentIdentifier(Type Type, string LeftName, string RightName);

    /// <summary>Rewrites <c>x.a</c> and <c>x.b</c> of a lambda over the transparent identifier into <c>pair.Left</c>/<c>pair.Right</c>.</summary>
    private sealed class PairReader(ParameterExpression identifier, TransparentIdentifier names, Expression pair) : ExpressionVisitor
    {
        private bool _escaped;

        /// <summary>The rewritten body, or null when the lambda uses the identifier other than through its two members.</summary>
        public static Expression? Rewrite(LambdaExpression lambda, TransparentIdentifier names, Expression pair)
        {
            var reader = new PairReader(lambda.Parameters[0], names, pair);
            var body = reader.Visit(lambda.Body);
            return reader._escaped ? null : body;
        }

        protected override Expression VisitMember(MemberExpression node)
        {
            if (node.Expression == identifier)
            {
                if (node.Member.Name == names.LeftName)
                {
                    return Expression.Property(pair, "Left");
                }

                if (node.Member.Name == names.RightName)
                {
                    return Expression.Property(pair, "Right");
                }
            }

            return base.VisitMember(node);
        }

        protected override Expression VisitParameter(ParameterExpression node)
        {
            _escaped |= node == identifier;
            return node;
        }
    }

    /// <summary><c>new Closing&lt;T&gt;(close, value)</c>.</summary>
    private static NewExpression Tag(Expression close, Expression value)
    {
        var type = typeof(Closing<>).MakeGenericType(value.Type);
        return Expression.New(type.GetConstructor([typeof(long), value.Type])!, close, value);
    }

    /// <summary>Whether an event-time selector's body provably stays within ±2^62 ticks (so <c>t - D</c> and <c>t + 1</c> cannot overflow).</summary>
    private static bool IsBoundedTime(Expression body)
    {
        if (body.Type == typeof(DateTime) || body.Type == typeof(DateTimeOffset) || body.Type == typeof(int))
        {
            return true; // ticks of a date are 0 to 3.2e18; an int is tiny
        }

        if (body is BinaryExpression { NodeType: ExpressionType.Add or ExpressionType.Subtract, Method: null, Right: ConstantExpression { Value: long offset } } shifted
            && offset is >= -Bound and <= Bound)
        {
            body = shifted.Left;
        }

        return body is MemberExpression { Member.Name: nameof(DateTime.Ticks) or nameof(DateTimeOffset.UtcTicks), Expression: { } date }
            && (date.Type == typeof(DateTime) || date.Type == typeof(DateTimeOffset));
    }
}
