using System.Linq.Expressions;
using LinqStream.Internal;
using LinqStream.Physical.Join;
using LinqStream.Physical.Pipeline;
using LinqStream.Physical.Windows;
using LinqStream.Physical.Windows.ArgMax;
using LinqStream.Plan;
using LinqStream.Temporal;

namespace LinqStream.Query.Optimization;

/// <summary>
/// Replaces "a per-window <c>Max</c> joined back to its own input on the maximum" by one <see cref="WindowArgMaxNode"/>: the
/// window's events at the maximum, found in one pass, with no join and nothing held but the current window's ties.
/// </summary>
/// <remarks>
/// <para>Two shapes, each proven from the plan (every step below is checked, else the plan is left alone):</para>
/// <para>
/// Value join (NEXMark q7): <c>Join(Window[T](X), WindowAggregate[T](X, w =&gt; R(.., w.Max(v), ..)), l =&gt; v(l), r =&gt; r.M)</c>
/// where <c>r.M</c> is the maximum → <c>WindowArgMax[T](Window[T](X))</c>. The left events' lifetimes are their tumbling window,
/// so each overlaps only its own window's row.
/// </para>
/// <para>
/// Window join and filter (NEXMark q5): <c>Where(p, Join(C, WindowAggregate[Tumbling(h)](C, w =&gt; R(.., w.Max(v), ..)), c =&gt;
/// c.WindowStart, r =&gt; r.WindowStart))</c> where <c>C</c> is a window aggregate with hop <c>h</c> (each of its windows is one
/// tumbling window of the maxima, and its results start at their window's start), and <c>p</c> has the conjunct
/// <c>v(c) == r.M</c> → <c>Where(p, WindowArgMax[Tumbling(h)](C))</c>. The filter stays (it is then always true) and only
/// the pairs it kept are made.
/// </para>
/// <para>
/// Values are compared as the replaced <c>Max</c> does: integral types only (widening conversions on either side of the
/// equality are allowed), so the maximum and equality agree. A member read of a constructed row (<c>new WindowPrice(s, max).MaxPrice</c>)
/// is resolved through an anonymous type, an object initializer, or a positional record's constructor parameter of the same name
/// and type; the operator checks at run time that every pair it emits has equal join keys. Runs only under
/// <see cref="ErrorPolicy.Fail"/> (the join and the aggregate skip failing events separately under the other policy) and when
/// <c>QueryOptions.RewriteSubPlans</c> is on.
/// </para>
/// </remarks>
internal sealed class WindowMaxJoinToArgMaxPass(QueryOptions options)
    : OptionalPlanPass("WindowMaxJoinToArgMax", options.RewriteSubPlans && options.OnError == ErrorPolicy.Fail)
{
    protected override PlanNode Rewrite(PlanNode node)
    {
        if (!Enabled)
        {
            return node;
        }

        switch (node)
        {
            case WhereNode { Source: JoinNode { Kind: JoinKind.Inner, Result: not null } join } where when !IsShared(join):
                return WindowStartJoin(where.Predicate, join) is { } argMax ? new WhereNode(argMax, where.Predicate) : node;
            case JoinNode { Kind: JoinKind.Inner, Result: not null } join:
                return ValueJoin(join) ?? node;
            default:
                return node;
        }
    }

    /// <summary>q7's shape: the left input is the aggregate's input in the aggregate's tumbling window, joined on the value.</summary>
    private static WindowArgMaxNode? ValueJoin(JoinNode join)
    {
        if (join.Left is not WindowNode { Window.Kind: WindowKind.Tumbling } left
            || WindowMax(join.Right, left.Source) is not var (aggregate, max)
            || aggregate.Window != left.Window)
        {
            return null;
        }

        // l => v(l) == r => r.M, with r.M the maximum.
        if (!SameValue(Widened(join.LeftKey.Body), join.LeftKey.Parameters[0], max.Value!)
            || !IsMax(LambdaInliner.Inline(join.RightKey, aggregate.Aggregates!.Result.Body), max))
        {
            return null;
        }

        return Create(left, aggregate, max, join);
    }

    /// <summary>q5's shape: a window aggregate joined on the window start with the maximum over its own windows, then filtered to it.</summary>
    private static WindowArgMaxNode? WindowStartJoin(LambdaExpression predicate, JoinNode join)
    {
        if (join.Left is not AggregateNode { Window.Kind: WindowKind.Tumbling or WindowKind.Hopping, Aggregates: { } counts } left
            || WindowMax(join.Right, left) is not var (aggregate, max)
            || aggregate.Window.Kind != WindowKind.Tumbling
            || aggregate.Window.Size != left.Window.Hop)
        {
            return null;
        }

        // c => c.WindowStart == r => r.WindowStart: both reduce to their aggregate's window start.
        if (!IsParameter(Simplify(LambdaInliner.Inline(join.LeftKey, counts.Result.Body)), counts.Result.Parameters[1])
            || !IsParameter(Simplify(LambdaInliner.Inline(join.RightKey, aggregate.Aggregates!.Result.Body)), aggregate.Aggregates.Result.Parameters[1]))
        {
            return null;
        }

        // The filter, over the join's (c, r) pair, has a conjunct v(c) == r.M.
        var result = join.Result!;
        var pair = Simplify(LambdaInliner.Inline(predicate, result.Body));
        foreach (var conjunct in Conjuncts(pair))
        {
            if (conjunct is BinaryExpression { NodeType: ExpressionType.Equal, Method: null } equal
                && (FiltersToMax(equal.Left, equal.Right) || FiltersToMax(equal.Right, equal.Left)))
            {
                return Create(left, aggregate, max, join);
            }
        }

        return null;

        bool FiltersToMax(Expression value, Expression maximum) =>
            SameValue(Widened(value), result.Parameters[0], max.Value!)
            && IsMax(LambdaInliner.Inline(Expression.Lambda(maximum, result.Parameters[1]), aggregate.Aggregates.Result.Body), max);
    }

    /// <summary>A whole-window tumbling aggregate over <paramref name="source"/> whose only aggregate is an unfiltered <c>Max</c> of an integral value.</summary>
    private static (AggregateNode Aggregate, AggregateCall Max)? WindowMax(PlanNode node, PlanNode source)
    {
        if (node is not AggregateNode { Key: null, Window.Kind: WindowKind.Tumbling, Aggregates: { BufferReason: null, Calls: [var call] } } aggregate
            || !ReferenceEquals(aggregate.Source, source)
            || call is not { Kind: AggregateKind.Max, Filter: null, Value: not null, SkipsNulls: false }
            || call.Placeholder.Type != call.Value.ReturnType
            || !IntegralRange.TryGetValue(call.Value.ReturnType, out _))
        {
            return null;
        }

        return (aggregate, call);
    }

    private static WindowArgMaxNode Create(PlanNode source, AggregateNode aggregate, AggregateCall max, JoinNode join)
    {
        // The row of a window: the aggregate's result with its key (none) as default and its maximum read from a long.
        var result = aggregate.Aggregates!.Result;
        var windowStart = Expression.Parameter(typeof(long), "windowStart");
        var windowEnd = Expression.Parameter(typeof(long), "windowEnd");
        var maximum = Expression.Parameter(typeof(long), "max");
        var body = LambdaInliner.Inline(result, Expression.Default(result.Parameters[0].Type), windowStart, windowEnd);
        body = new ParameterReplacer(max.Placeholder, Expression.Convert(maximum, max.Placeholder.Type)).Visit(body);
        var row = Expression.Lambda(body, windowStart, windowEnd, maximum);
        return new WindowArgMaxNode(source, max.Value!, aggregate.Window, row, join.Result!, join.LeftKey, join.RightKey);
    }

    private static IEnumerable<Expression> Conjuncts(Expression e) =>
        e is BinaryExpression { NodeType: ExpressionType.AndAlso } and ? Conjuncts(and.Left).Concat(Conjuncts(and.Right)) : [e];

    /// <summary>Whether <paramref name="e"/>, a member read of the aggregate's row, is its maximum (through widening conversions).</summary>
    private static bool IsMax(Expression e, AggregateCall max) => Widened(Simplify(e)) == max.Placeholder;

    private static bool IsParameter(Expression e, ParameterExpression parameter) => e == parameter;

    /// <summary>Whether <paramref name="e"/> over <paramref name="parameter"/> reads the same member chain as <paramref name="value"/> over its own.</summary>
    private static bool SameValue(Expression e, ParameterExpression parameter, LambdaExpression value)
    {
        var other = value.Body;
        while (e is MemberExpression a && other is MemberExpression b)
        {
            if (a.Member != b.Member)
            {
                return false;
            }

            e = a.Expression!;
            other = b.Expression!;
        }

        return e == parameter && other == value.Parameters[0] && parameter.Type == value.Parameters[0].Type;
    }

    /// <summary>Removes conversions that keep every value distinct and in order (an integral type to one that holds all its values).</summary>
    private static Expression Widened(Expression e)
    {
        while (e is UnaryExpression { NodeType: ExpressionType.Convert, Method: null } convert
            && IntegralRange.TryGetValue(convert.Operand.Type, out var from)
            && IntegralRange.TryGetValue(convert.Type, out var to)
            && to.Min <= from.Min && from.Max <= to.Max)
        {
            e = convert.Operand;
        }

        return e;
    }

    private static readonly Dictionary<Type, (Int128 Min, Int128 Max)> IntegralRange = new()
    {
        [typeof(sbyte)] = (sbyte.MinValue, sbyte.MaxValue),
        [typeof(byte)] = (byte.MinValue, byte.MaxValue),
        [typeof(short)] = (short.MinValue, short.MaxValue),
        [typeof(ushort)] = (ushort.MinValue, ushort.MaxValue),
        [typeof(int)] = (int.MinValue, int.MaxValue),
        [typeof(uint)] = (uint.MinValue, uint.MaxValue),
        [typeof(long)] = (long.MinValue, long.MaxValue),
    };

    /// <summary>Resolves member reads of constructed objects: <c>new { a, b }.a</c>, <c>new R { M = x }.M</c>, <c>new R(x).M</c> (positional record), <c>new WindowBounds(s, e).StartTicks</c>.</summary>
    private static Expression Simplify(Expression e) => new MemberOfConstructionSimplifier().Visit(e);

    private sealed class MemberOfConstructionSimplifier : ExpressionVisitor
    {
        protected override Expression VisitMember(MemberExpression node)
        {
            var inner = Visit(node.Expression);
            return Resolve(inner, node.Member) ?? node.Update(inner);
        }

        private static Expression? Resolve(Expression? inner, System.Reflection.MemberInfo member)
        {
            switch (inner)
            {
                case NewExpression { Members: { } members } anonymous:
                    for (int i = 0; i < members.Count; i++)
                    {
                        if (members[i].Name == member.Name)
                        {
                            return anonymous.Arguments[i];
                        }
                    }

                    return null;
                case NewExpression { Arguments: [var start, var end] } bounds when bounds.Type == typeof(WindowBounds):
                    // The engine's own window bounds (g.Window): the constructor keeps its ticks.
                    return member.Name switch
                    {
                        nameof(WindowBounds.StartTicks) => start,
                        nameof(WindowBounds.EndTicks) => end,
                        _ => null,
                    };
                case NewExpression { Constructor: { } constructor } created when IsPositionalRecordProperty(created.Type, member):
                    var parameters = constructor.GetParameters();
                    for (int i = 0; i < parameters.Length; i++)
                    {
                        if (parameters[i].Name == member.Name && parameters[i].ParameterType == ((System.Reflection.PropertyInfo)member).PropertyType)
                        {
                            return created.Arguments[i];
                        }
                    }

                    return null;
                case MemberInitExpression init:
                    foreach (var binding in init.Bindings)
                    {
                        if (binding is MemberAssignment assignment && assignment.Member == member)
                        {
                            return assignment.Expression;
                        }
                    }

                    return null;
                default:
                    return null;
            }
        }

        /// <summary>A compiler-generated property of a record (a positional record's properties are; the run-time check covers the rest).</summary>
        private static bool IsPositionalRecordProperty(Type type, System.Reflection.MemberInfo member)
        {
            const System.Reflection.BindingFlags Instance = System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic;
            return member is System.Reflection.PropertyInfo { GetMethod: { } getter } property
                && property.DeclaringType == type
                && getter.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute), false)
                && type.GetMethod("PrintMembers", Instance, [typeof(System.Text.StringBuilder)]) is { } print
                && print.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute), false);
        }
    }

    private sealed class ParameterReplacer(ParameterExpression from, Expression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : node;
    }
}
