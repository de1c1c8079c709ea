using LinqStream.Internal;
using LinqStream.Physical.Aggregate;
using LinqStream.Physical.Ingress;
using LinqStream.Physical.Join;
using LinqStream.Physical.Join.Anti;
using LinqStream.Physical.Join.Inner;
using LinqStream.Physical.Join.Left;
using LinqStream.Physical.Join.Window;
using LinqStream.Physical.Lifetime;
using LinqStream.Physical.Over;
using LinqStream.Physical.Multicast;
using LinqStream.Physical.Pipeline;
using LinqStream.Physical.SelectMany;
using LinqStream.Physical.Union;
using LinqStream.Physical.Windows;
using LinqStream.Physical.Windows.ArgMax;
using LinqStream.Physical.Windows.KeyedFold;
using LinqStream.Physical.Windows.Hopping;
using LinqStream.Physical.Windows.Tumbling;
using LinqStream.Plan;
using LinqStream.Runtime;
using LinqStream.Temporal;

namespace LinqStream.Query.Physicalization;

/// <summary>
/// Physical planning: picks a physical operator for each logical node, built by a typed factory (one generic method per
/// operator, closed over the node's types once); a node with several parents is wrapped in a multicast. Operators are built with
/// their kernels' lambdas and compile nothing: the last stage (<see cref="KernelCompilation"/>) compiles every kernel.
/// </summary>
/// <remarks>Plans that no operator can run were refused by translation; reaching one here is a bug in translation.</remarks>
internal sealed class Physicalizer
{
    private readonly Dictionary<PlanNode, PhysicalNode> _memo = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<PlanNode, int> _parents;
    private readonly QueryCompilationContext _context;

    private Physicalizer(PlanNode plan, QueryCompilationContext context)
    {
        _parents = PlanGraph.CountParents(plan);
        _context = context;
    }

    /// <summary>Builds the physical plan of <paramref name="plan"/>; each fallback (a buffered window) goes to the context's log.</summary>
    public static PhysicalStream<T> Process<T>(PlanNode plan, QueryCompilationContext context)
    {
        var root = (PhysicalStream<T>)new Physicalizer(plan, context).Build(plan);
        foreach (var fallback in FindFallbacks(root, new HashSet<PhysicalNode>(ReferenceEqualityComparer.Instance)))
        {
            context.Log.Add(fallback);
        }

        return root;
    }

    private PhysicalNode Build(PlanNode node)
    {
        if (_memo.TryGetValue(node, out var done))
        {
            return done;
        }

        var physical = Create(node);
        if (_parents.GetValueOrDefault(node) > 1)
        {
            physical = Factory<PhysicalNode>(nameof(Multicast), node.Type)(this, physical);
        }

        _memo[node] = physical;
        return physical;
    }

    private PhysicalNode Create(PlanNode node) => node switch
    {
        SourceNode source => Factory<SourceNode>(nameof(Source), source.Type)(this, source),
        PipelineNode pipeline => Factory<PipelineNode>(nameof(Pipeline), pipeline.Source.Type, pipeline.Type)(this, pipeline),
        WhereNode where => Create(new PipelineNode(where.Source, [new PipelineStep(true, where.Predicate)])),
        SelectNode select => Create(new PipelineNode(select.Source, [new PipelineStep(false, select.Selector)])),
        SelectManyNode many => Factory<SelectManyNode>(nameof(SelectMany), many.Source.Type, many.Type)(this, many),
        AggregateNode aggregate => Factory<AggregateNode>(nameof(Aggregate), aggregate.Source.Type, aggregate.Key?.ReturnType ?? typeof(NoKey), aggregate.Type)(this, aggregate),
        GroupNode group => Create(Identity(group)),
        WindowNode { Window.Kind: WindowKind.Tumbling } tumbling => Factory<WindowNode>(nameof(Tumbling), tumbling.Type)(this, tumbling),
        WindowNode { Window.Kind: WindowKind.Hopping } hopping => Factory<WindowNode>(nameof(Hopping), hopping.Type)(this, hopping),
        LifetimeNode lifetime => Factory<LifetimeNode>(nameof(Lifetime), lifetime.Type)(this, lifetime),
        ClipNode clip => Factory<ClipNode>(nameof(Clip), clip.Type, clip.Key.ReturnType)(this, clip),
        OverNode over => Factory<OverNode>(nameof(Over), over.Source.Type, over.Key.ReturnType, over.StateType, over.Type, over.Aggregate.GetType())(this, over),
        JoinNode { Kind: JoinKind.Anti } anti => Factory<JoinNode>(nameof(AntiJoin), anti.Left.Type, anti.Right.Type, anti.LeftKey.ReturnType)(this, anti),
        JoinNode { Kind: JoinKind.Inner } inner => Factory<JoinNode>(nameof(InnerJoin), inner.Left.Type, inner.Right.Type, inner.LeftKey.ReturnType, inner.Type)(this, inner),
        JoinNode { Kind: JoinKind.LeftOuter } left => Factory<JoinNode>(nameof(LeftJoin), left.Left.Type, left.Right.Type, left.LeftKey.ReturnType, left.Type)(this, left),
        WindowJoinNode windowJoin => Factory<WindowJoinNode>(nameof(WindowJoin), windowJoin.Left.Type, windowJoin.Right.Type, windowJoin.LeftKey.ReturnType, windowJoin.Type)(this, windowJoin),
        UnionNode union => Factory<UnionNode>(nameof(Union), union.Type)(this, union),
        WindowArgMaxNode argMax => Factory<WindowArgMaxNode>(nameof(ArgMax), argMax.Source.Type, argMax.Row.ReturnType, argMax.LeftKey.ReturnType, argMax.Type)(this, argMax),
        KeyedFoldNode fold => Factory<KeyedFoldNode>(
            nameof(KeyedFold), fold.Source.Type.GetGenericArguments()[0], fold.Fold.Key.ReturnType, fold.Fold.AggregateTypes[0], fold.Fold.AggregateTypes[1], fold.Fold.AggregateTypes[2], fold.Fold.Aggregate.GetType(), fold.Type)(this, fold),
        JoinKeyedFoldNode fused => Factory<JoinKeyedFoldNode>(
            nameof(JoinKeyedFold), fused.Left.Type, fused.Right.Type, fused.LeftKey.ReturnType, fused.Fold.Key.ReturnType, fused.Fold.AggregateTypes[0], fused.Fold.AggregateTypes[1], fused.Fold.AggregateTypes[2], fused.Fold.Aggregate.GetType(), fused.Type)(this, fused),
        _ => throw new InvalidOperationException($"No physical operator for plan node '{node.Name}'; translation should have refused it."),
    };

    // The typed factories: one per operator, each a plain constructor call ("go to definition" lands on the operator).
    private static PhysicalNode Source<T>(Physicalizer p, SourceNode n) =>
        new IngressStream<T>(n.Source, n.Time, n.End, n.Policy, n.SourceName, p._context.Kernels) { MembersRead = p._context.MembersRead.GetValueOrDefault(n)?.Names };

    private static PhysicalNode Pipeline<TIn, TOut>(Physicalizer p, PipelineNode n) =>
        new PipelineStream<TIn, TOut>(p.Input<TIn>(n.Source), [.. n.Steps.Select(s => new PipelineKernelStep(s.IsFilter, s.Lambda))], p._context.Kernels);

    private static PhysicalNode SelectMany<TIn, TOut>(Physicalizer p, SelectManyNode n) =>
        new SelectManyStream<TIn, TOut>(p.Input<TIn>(n.Source), n.Selector, p._context.Kernels);

    private static PhysicalNode Aggregate<T, TKey, TResult>(Physicalizer p, AggregateNode n)
        where TKey : notnull =>
        new WindowAggregateStream<T, TKey, TResult>(
            p.Input<T>(n.Source), n.Window, n.Key, n.Selector, n.Aggregates!.ToString(), n.Aggregates.BufferReason, p.AggregatePlan<T, TKey, TResult>(n.Aggregates), p._context.Kernels);

    private Func<AggregatePlan<T, TKey, TResult>> AggregatePlan<T, TKey, TResult>(WindowAggregates? aggregates)
    {
        var recognised = aggregates ?? throw new InvalidOperationException("A window aggregate reached physical planning without the aggregates translation recognises.");
        var kernels = _context.Kernels;
        return () => AggregatePlanner.Build<T, TKey, TResult>(recognised, kernels);
    }

    private static PhysicalNode Tumbling<T>(Physicalizer p, WindowNode n) => new TumblingLifetimeStream<T>(p.Input<T>(n.Source), n.Window.Size);

    private static PhysicalNode Hopping<T>(Physicalizer p, WindowNode n) => new HoppingLifetimeStream<T>(p.Input<T>(n.Source), n.Window.Size, n.Window.Hop);

    private static PhysicalNode Lifetime<T>(Physicalizer p, LifetimeNode n) => n.Kind switch
    {
        LifetimeKind.Extend => new ExtendLifetimeStream<T>(p.Input<T>(n.Source), n.Ticks),
        LifetimeKind.Shift => new ShiftTimeStream<T>(p.Input<T>(n.Source), n.Ticks),
        _ => new PointEventsStream<T>(p.Input<T>(n.Source)),
    };

    private static PhysicalNode Clip<T, TKey>(Physicalizer p, ClipNode n)
        where TKey : notnull =>
        new ClipLifetimeStream<T, TKey>(p.Input<T>(n.Source), n.Key, p._context.Kernels);

    private static PhysicalNode Over<T, TKey, TState, TResult, TAggregate>(Physicalizer p, OverNode n)
        where TKey : notnull
        where TAggregate : IAggregate<T, TState, TResult> =>
        new OverRowsStream<T, TKey, TState, TResult, TAggregate>(p.Input<T>(n.Source), n.Key, n.Rows, n.IdleTicks, (TAggregate)n.Aggregate, n.Detail, p._context.Kernels);

    private static PhysicalNode AntiJoin<TLeft, TRight, TKey>(Physicalizer p, JoinNode n) =>
        new AntiJoinStream<TLeft, TRight, TKey>(p.Input<TLeft>(n.Left), p.Input<TRight>(n.Right), n.LeftKey, n.RightKey, p._context.Kernels);

    private static PhysicalNode InnerJoin<TLeft, TRight, TKey, TResult>(Physicalizer p, JoinNode n) =>
        new JoinStream<TLeft, TRight, TKey, TResult>(p.Input<TLeft>(n.Left), p.Input<TRight>(n.Right), n.LeftKey, n.RightKey, n.Result!, p._context.Kernels);

    private static PhysicalNode LeftJoin<TLeft, TRight, TKey, TResult>(Physicalizer p, JoinNode n) =>
        new LeftJoinStream<TLeft, TRight, TKey, TResult>(p.Input<TLeft>(n.Left), p.Input<TRight>(n.Right), n.LeftKey, n.RightKey, n.Result!, p._context.Kernels);

    private static PhysicalNode WindowJoin<TLeft, TRight, TKey, TResult>(Physicalizer p, WindowJoinNode n) =>
        new WindowJoinStream<TLeft, TRight, TKey, TResult>(p.Input<TLeft>(n.Left), p.Input<TRight>(n.Right), n.Window, n.LeftKey, n.RightKey, n.Result, p._context.Kernels);

    private static PhysicalNode ArgMax<TIn, TRow, TKey, TResult>(Physicalizer p, WindowArgMaxNode n) =>
        new WindowArgMaxStream<TIn, TRow, TKey, TResult>(
            p.Input<TIn>(n.Source), new WindowArgMaxNodeLambdas(n.Value, n.Row, n.Result, n.LeftKey, n.RightKey), n.RowWindow.Size, n.Detail, p._context.Kernels);

    private static PhysicalNode KeyedFold<TX, TKey, TIn, TState, TAggResult, TAggregate, TResult>(Physicalizer p, KeyedFoldNode n)
        where TKey : notnull
        where TAggregate : IAggregate<TIn, TState, TAggResult> =>
        new KeyedFoldStream<TX, TKey, TIn, TState, TAggResult, TAggregate, TResult>(
            p.Input<Closing<TX>>(n.Source), new KeyedFoldLambdas(n.Fold.Key, n.Fold.Input, n.Fold.Result), (TAggregate)n.Fold.Aggregate, n.Detail, p._context.Kernels);

    private static PhysicalNode JoinKeyedFold<TLeft, TRight, TKey, TFoldKey, TIn, TState, TAggResult, TAggregate, TResult>(Physicalizer p, JoinKeyedFoldNode n)
        where TFoldKey : notnull
        where TAggregate : IAggregate<TIn, TState, TAggResult> =>
        new JoinKeyedFoldStream<TLeft, TRight, TKey, TFoldKey, TIn, TState, TAggResult, TAggregate, TResult>(
            p.Input<TLeft>(n.Left), p.Input<TRight>(n.Right), new JoinKeyedFoldLambdas(n.LeftKey, n.RightKey, n.Pair, [.. n.Steps.Select(s => new PipelineKernelStep(s.IsFilter, s.Lambda))], n.Fold.Key, n.Fold.Input, n.Fold.Result), (TAggregate)n.Fold.Aggregate, n.Detail, p._context.Kernels);

    private static PhysicalNode Union<T>(Physicalizer p, UnionNode n) => new UnionStream<T>([.. n.Children.Select(p.Input<T>)]);

    private static PhysicalNode Multicast<T>(Physicalizer p, PhysicalNode shared) => new MulticastStream<T>((PhysicalStream<T>)shared);

    private PhysicalStream<T> Input<T>(PlanNode node) => (PhysicalStream<T>)Build(node);

    private static Func<Physicalizer, TNode, PhysicalNode> Factory<TNode>(string name, params Type[] types) =>
        GenericFactory.Get<Func<Physicalizer, TNode, PhysicalNode>>(GenericFactory.Definition(typeof(Physicalizer), name), types);

    /// <summary>A group stream that is never aggregated: each group materialized as a whole (buffered), as translation recognised it.</summary>
    private static AggregateNode Identity(GroupNode group) =>
        new(group.Window.Source, group.Window.Window, group.Key, group.Whole!.Value.Selector, group.Whole.Value.Aggregates);

    private static IEnumerable<string> FindFallbacks(PhysicalNode node, HashSet<PhysicalNode> seen)
    {
        if (!seen.Add(node))
        {
            yield break;
        }

        if (node is IBufferingNode { BufferReason: { } reason })
        {
            yield return "Fallback: " + reason;
        }

        foreach (var input in node.Inputs)
        {
            foreach (var line in FindFallbacks(input, seen))
            {
                yield return line;
            }
        }
    }
}
