using LinqStream.Physical.Join;
using LinqStream.Physical.Pipeline;
using LinqStream.Physical.Windows.KeyedFold;
using LinqStream.Plan;
using LinqStream.Temporal;

namespace LinqStream.Query.Optimization;

/// <summary>
/// Fuses the keyed fold that <see cref="ExpiryJoinToKeyedFoldPass"/> made with the join and the filters and projections below it
/// into one <see cref="JoinKeyedFoldNode"/> (issue #19: q4/q9 spent a third of their time handing each matched pair from the join
/// to the chain and from the chain to the fold, and looking its group up again per pair).
/// </summary>
/// <remarks>
/// <code>
/// KeyedFold[k, agg, R](Where/Select chain(Join[inner](closes, E, lk, rk, (a, e) =&gt; Closing(t(a), r))))
///   →  JoinKeyedFold(closes, E, lk, rk, (a, e) =&gt; Closing(t(a), r), chain, k, agg, R)
/// </code>
/// The fused operator makes the same pairs in the same rounds, runs the same chain on each, and folds the survivors into the same
/// groups, emitted at the same watermarks in the same order; only the hand-offs between the three operators go. Runs when
/// <see cref="QueryOptions.Fuse"/> is on; the join and each step of the chain must have no other consumer.
/// <para>
/// Not when the job keeps keyed state off the heap (<c>JobOptions.State</c> is the RocksDB backend, docs/state.md): the unfused
/// plan's join is then the spilled temporal join, whose live closes (one per open key) go to the store past its hot-key budget;
/// the fused operator would keep every one on the heap. The log line then says <see cref="OffHeapReason"/>.
/// </para>
/// </remarks>
internal sealed class JoinKeyedFoldFusionPass(QueryOptions options, bool keyedStateOffHeap = false) : OptionalPlanPass("JoinKeyedFoldFusion", options.Fuse)
{
    /// <summary>What <c>Explain()</c> says when the pass would have fused but the job's keyed state is off the heap.</summary>
    public const string OffHeapReason =
        "keyed state is off the heap: the join's live closes spill to the state store, the fused operator would keep them all on the heap";

    protected override PlanNode Rewrite(PlanNode node)
    {
        if (!Enabled || node is not KeyedFoldNode fold)
        {
            return node;
        }

        // The chain between the join and the fold, bottom first.
        var steps = new List<PipelineStep>();
        var below = fold.Source;
        while (!IsShared(below))
        {
            switch (below)
            {
                case WhereNode where:
                    steps.Insert(0, new PipelineStep(true, where.Predicate));
                    below = where.Source;
                    continue;
                case SelectNode select:
                    steps.Insert(0, new PipelineStep(false, select.Selector));
                    below = select.Source;
                    continue;
                case PipelineNode pipeline:
                    steps.InsertRange(0, pipeline.Steps);
                    below = pipeline.Source;
                    continue;
            }

            break;
        }

        if (below is not JoinNode { Kind: JoinKind.Inner, Result: { } pair } join
            || IsShared(join)
            || !pair.ReturnType.IsGenericType
            || pair.ReturnType.GetGenericTypeDefinition() != typeof(Closing<>))
        {
            return node;
        }

        if (keyedStateOffHeap)
        {
            Declined = OffHeapReason;
            return node;
        }

        return new JoinKeyedFoldNode(
            join.Left, join.Right, join.LeftKey, join.RightKey, pair, steps,
            fold.Fold);
    }
}
