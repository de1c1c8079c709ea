using System.Linq.Expressions;
using LinqStream.Physical.Ingress;
using LinqStream.Physical.Join;
using LinqStream.Physical.Join.Window;
using LinqStream.Physical.Lifetime;
using LinqStream.Physical.Pipeline;
using LinqStream.Physical.SelectMany;
using LinqStream.Physical.Union;
using LinqStream.Physical.Windows;
using LinqStream.Physical.Windows.ArgMax;
using LinqStream.Physical.Windows.KeyedFold;
using LinqStream.Plan;

namespace LinqStream.Query;

/// <summary>
/// Rewrites a logical plan's lifted objects (sources, closures): to their placeholders (<paramref name="lift"/>: object →
/// index) when a plan is cached, or from the placeholders to a new query's objects (<paramref name="bind"/>) on a hit.
/// </summary>
/// <remarks>Every node kind and every expression a node holds is rewritten; a node it does not know makes the plan uncacheable (null).</remarks>
internal sealed class PlanRebinder(Dictionary<object, int>? lift, IReadOnlyList<object>? bind) : ExpressionVisitor
{
    /// <summary>The rebound plan (sharing kept through <paramref name="memo"/>), or null when it cannot be cached.</summary>
    public PlanNode? Rebind(PlanNode node, Dictionary<PlanNode, PlanNode> memo)
    {
        if (memo.TryGetValue(node, out var done))
        {
            return done;
        }

        PlanNode? result = node switch
        {
            SourceNode s => new SourceNode(Object(s.Source), s.Type, L(s.Time), N(s.End), s.Policy, s.SourceName),
            WhereNode w => Rebind(w.Source, memo) is { } c ? new WhereNode(c, L(w.Predicate)) : null,
            SelectNode x => Rebind(x.Source, memo) is { } c ? new SelectNode(c, L(x.Selector)) : null,
            PipelineNode p => Rebind(p.Source, memo) is { } c ? new PipelineNode(c, [.. p.Steps.Select(step => new PipelineStep(step.IsFilter, L(step.Lambda)))]) : null,
            SelectManyNode m => Rebind(m.Source, memo) is { } c ? new SelectManyNode(c, L(m.Selector)) : null,
            WindowNode w => Rebind(w.Source, memo) is { } c ? new WindowNode(c, w.Window) : null,
            GroupNode g => Group(g, memo),
            AggregateNode a => a.Aggregates is { } aggregates && Aggregates(aggregates) is { } rebound && Rebind(a.Source, memo) is { } c
                ? new AggregateNode(c, a.Window, N(a.Key), L(a.Selector), rebound) : null,
            JoinNode j => Rebind(j.Left, memo) is { } l && Rebind(j.Right, memo) is { } r ? new JoinNode(l, r, j.Kind, L(j.LeftKey), L(j.RightKey), N(j.Result)) : null,
            WindowJoinNode j => Rebind(j.Left, memo) is { } l && Rebind(j.Right, memo) is { } r ? new WindowJoinNode(l, r, j.Window, L(j.LeftKey), L(j.RightKey), L(j.Result)) : null,
            UnionNode u => u.Children.Select(child => Rebind(child, memo)).ToList() is var inputs && inputs.All(i => i is not null) ? new UnionNode(inputs!) : null,
            LifetimeNode t => Rebind(t.Source, memo) is { } c ? new LifetimeNode(c, t.Kind, t.Ticks) : null,
            ClipNode k => Rebind(k.Source, memo) is { } c ? new ClipNode(c, L(k.Key)) : null,
            Physical.Over.OverNode o => Rebind(o.Source, memo) is { } c ? new Physical.Over.OverNode(c, L(o.Key), o.Rows, o.IdleTicks, o.Aggregate, o.StateType, o.Type) : null,
            WindowArgMaxNode x => Rebind(x.Source, memo) is { } c ? new WindowArgMaxNode(c, L(x.Value), x.RowWindow, L(x.Row), L(x.Result), L(x.LeftKey), L(x.RightKey)) : null,
            KeyedFoldNode f => (lift is null || !f.Fold.EvaluatedCapturedValue) && Rebind(f.Source, memo) is { } c
                ? new KeyedFoldNode(c, f.Fold.With(L)) : null,
            JoinKeyedFoldNode f => (lift is null || !f.Fold.EvaluatedCapturedValue) && Rebind(f.Left, memo) is { } l && Rebind(f.Right, memo) is { } r
                ? f.With(l, r, L) : null,
            _ => null,
        };
        if (result is not null)
        {
            memo[node] = result;
        }

        return result;
    }

    protected override Expression VisitConstant(ConstantExpression node)
    {
        if (lift is not null && node.Value is not null && lift.TryGetValue(node.Value, out int index))
        {
            return Lifted.Parameter(index, node.Type);
        }

        return node;
    }

    protected override Expression VisitParameter(ParameterExpression node) =>
        bind is not null && Lifted.TryIndex(node, out int index) ? Expression.Constant(bind[index], node.Type) : node;

    private GroupNode? Group(GroupNode group, Dictionary<PlanNode, PlanNode> memo)
    {
        if (Rebind(group.Window, memo) is not WindowNode window)
        {
            return null;
        }

        (LambdaExpression, WindowAggregates)? whole = null;
        if (group.Whole is { } w)
        {
            if (Aggregates(w.Aggregates) is not { } aggregates)
            {
                return null;
            }

            whole = (L(w.Selector), aggregates);
        }

        return new GroupNode(window, L(group.Key), N(group.Having), whole);
    }

    private WindowAggregates? Aggregates(WindowAggregates aggregates)
    {
        if (lift is not null && aggregates.EvaluatedCapturedValue)
        {
            return null; // a captured value is baked into the plan (Take(k), Aggregate(agg)): another query may capture another
        }

        return new WindowAggregates
        {
            Calls = [.. aggregates.Calls.Select(Call)],
            Result = L(aggregates.Result),
            BufferReason = aggregates.BufferReason,
            EvaluatedCapturedValue = aggregates.EvaluatedCapturedValue,
        };
    }

    private AggregateCall Call(AggregateCall call) => new()
    {
        Kind = call.Kind,
        Description = call.Description,
        Placeholder = call.Placeholder,
        Filter = N(call.Filter),
        Value = N(call.Value),
        SkipsNulls = call.SkipsNulls,
        K = call.K,
        Descending = call.Descending,
        KeyDirections = call.KeyDirections,
        Projection = N(call.Projection),
        Seed = call.Seed is null ? null : Visit(call.Seed),
        Func = N(call.Func),
        ResultSelector = N(call.ResultSelector),
        Instance = call.Instance,
        InstanceTypes = call.InstanceTypes,
    };

    private object Object(object value)
    {
        if (lift is not null && lift.TryGetValue(value, out int index))
        {
            return Lifted.At(index);
        }

        return bind is not null && value is Lifted placeholder ? bind[placeholder.Index] : value;
    }

    private LambdaExpression L(LambdaExpression lambda) => (LambdaExpression)Visit(lambda);

    private LambdaExpression? N(LambdaExpression? lambda) => lambda is null ? null : L(lambda);
}
