using System.Linq.Expressions;
using LinqStream.Internal;
using LinqStream.Physical.Join;
using LinqStream.Physical.Lifetime;
using LinqStream.Physical.Pipeline;
using LinqStream.Physical.Union;
using LinqStream.Physical.Windows;
using LinqStream.Plan;
using LinqStream.Temporal;

namespace LinqStream.Query.Optimization;

/// <summary>Moves filters below windows, lifetime changes, unions and (one side of) joins, so less data reaches stateful operators.</summary>
/// <remarks>
/// Before: <c>Where(t =&gt; t.a.Price &gt; 10, Join(A, B, (a, b) =&gt; new { a, b }))</c>.
/// After: <c>Join(Where(a =&gt; a.Price &gt; 10, A), B, ...)</c>. A shared sub-plan is never changed (its other consumers need all of it).
/// </remarks>
internal sealed class PredicatePushdownPass : PlanPass
{
    public override string Name => "PredicatePushdown";

    protected override PlanNode Rewrite(PlanNode node)
    {
        if (node is not WhereNode where || IsShared(where.Source))
        {
            return node;
        }

        var predicate = where.Predicate;
        switch (where.Source)
        {
            case WindowNode window:
                return new WindowNode(Rewrite(new WhereNode(window.Source, predicate)), window.Window);
            case LifetimeNode lifetime:
                return new LifetimeNode(Rewrite(new WhereNode(lifetime.Source, predicate)), lifetime.Kind, lifetime.Ticks);
            case UnionNode union:
                return new UnionNode(union.Children.Select(c => IsShared(c) ? new WhereNode(c, predicate) : Rewrite(new WhereNode(c, predicate))).ToArray());
            case JoinNode { Kind: JoinKind.Anti } anti:
                return anti.Update([Rewrite(new WhereNode(anti.Left, predicate)), anti.Right]);
            case JoinNode { Result: not null } join:
                return PushIntoJoin(where, join) ?? node;
            default:
                return node;
        }
    }

    private PlanNode? PushIntoJoin(WhereNode where, JoinNode join)
    {
        var result = join.Result!;
        var l = result.Parameters[0];
        var r = result.Parameters[1];
        var body = new MemberOfNewSimplifier().Visit(LambdaInliner.Inline(where.Predicate, result.Body));
        bool usesLeft = Uses(body, l), usesRight = Uses(body, r);
        if (usesLeft && !usesRight && !IsShared(join.Left))
        {
            return join.Update([Rewrite(new WhereNode(join.Left, Expression.Lambda(body, l))), join.Right]);
        }

        // On a left join, a filter on the right side would turn unmatched rows into matched ones: only inner joins take it.
        if (usesRight && !usesLeft && join.Kind == JoinKind.Inner && !IsShared(join.Right))
        {
            return join.Update([join.Left, Rewrite(new WhereNode(join.Right, Expression.Lambda(body, r)))]);
        }

        return null;
    }

    private static bool Uses(Expression body, ParameterExpression parameter)
    {
        var finder = new Finder(parameter);
        finder.Visit(body);
        return finder.Found;
    }

    private sealed class Finder(ParameterExpression parameter) : ExpressionVisitor
    {
        public bool Found { get; private set; }

        protected override Expression VisitParameter(ParameterExpression node)
        {
            Found |= node == parameter;
            return node;
        }
    }

    /// <summary><c>new { a, b }.a</c> → <c>a</c> (what query syntax's transparent identifiers produce).</summary>
    private sealed class MemberOfNewSimplifier : ExpressionVisitor
    {
        protected override Expression VisitMember(MemberExpression node)
        {
            var inner = Visit(node.Expression);
            if (inner is NewExpression { Members: not null } created)
            {
                for (int i = 0; i < created.Members.Count; i++)
                {
                    if (created.Members[i].Name == node.Member.Name)
                    {
                        return created.Arguments[i];
                    }
                }
            }

            return node.Update(inner);
        }
    }
}
