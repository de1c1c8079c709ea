using System.Linq.Expressions;
using LinqStream.Physical.Aggregate;
using LinqStream.Physical.Ingress;
using LinqStream.Physical.Join.Anti;
using LinqStream.Physical.Join.Inner;
using LinqStream.Physical.Join.Left;
using LinqStream.Physical.Lifetime;
using LinqStream.Physical.Multicast;
using LinqStream.Physical.Pipeline;
using LinqStream.Physical.SelectMany;
using LinqStream.Physical.Union;
using LinqStream.Physical.Windows;
using LinqStream.Physical.Windows.Hopping;
using LinqStream.Physical.Windows.Tumbling;
using LinqStream.Plan;
using LinqStream.Query.Optimization;
using LinqStream.Runtime;
using LinqStream.Temporal;

namespace LinqStream.Query.Physicalization;

/// <summary>Picks a physical operator for each plan node and compiles its kernels; a node with several parents is wrapped in a multicast.</summary>
internal sealed class Physicalizer
{
    private readonly Dictionary<PlanNode, PhysicalNode> _memo = new(ReferenceEqualityComparer.Instance);
    private Dictionary<PlanNode, int> _parents = [];
    private QueryOptions _options = QueryOptions.Default;

    public PhysicalStream<T> Process<T>(PlanNode plan, QueryOptions options)
    {
        _options = options;
        _parents = PlanGraph.CountParents(plan);
        return (PhysicalStream<T>)Build(plan);
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
            physical = New(typeof(MulticastStream<>), [node.Type], physical);
        }

        _memo[node] = physical;
        return physical;
    }

    private PhysicalNode Create(PlanNode node) => node switch
    {
        SourceNode source => New(typeof(IngressStream<>), [source.Type], source.Source, typeof(EventTimeKernel).GetMethod(nameof(EventTimeKernel.Compile))!.MakeGenericMethod(source.Type).Invoke(null, [source.Time, source.End]), source.Policy, source.SourceName),
        PipelineNode pipeline => New(typeof(PipelineStream<,>), [pipeline.Source.Type, pipeline.Type], Build(pipeline.Source), pipeline.Steps),
        WhereNode where => New(typeof(PipelineStream<,>), [where.Type, where.Type], Build(where.Source), new[] { new PipelineStep(true, where.Predicate) }),
        SelectNode select => New(typeof(PipelineStream<,>), [select.Source.Type, select.Type], Build(select.Source), new[] { new PipelineStep(false, select.Selector) }),
        SelectManyNode many => New(typeof(SelectManyStream<,>), [many.Source.Type, many.Type], Build(many.Source), many.Selector),
        AggregateNode aggregate => New(
            typeof(WindowAggregateStream<,,>), [aggregate.Source.Type, aggregate.Key?.ReturnType ?? typeof(NoKey), aggregate.Type],
            Build(aggregate.Source), aggregate.Window, aggregate.Key, aggregate.Selector, _options.Strict),
        GroupNode group => Create(Identity(group)),
        WindowNode window => Window(window),
        LifetimeNode { Kind: LifetimeKind.Extend } extend => New(typeof(ExtendLifetimeStream<>), [extend.Type], Build(extend.Source), extend.Ticks),
        LifetimeNode { Kind: LifetimeKind.Shift } shift => New(typeof(ShiftTimeStream<>), [shift.Type], Build(shift.Source), shift.Ticks),
        LifetimeNode point => New(typeof(PointEventsStream<>), [point.Type], Build(point.Source)),
        ClipNode clip => New(typeof(ClipLifetimeStream<,>), [clip.Type, clip.Key.ReturnType], Build(clip.Source), clip.Key),
        JoinNode { Kind: JoinKind.Anti } anti => New(
            typeof(AntiJoinStream<,,>), [anti.Left.Type, anti.Right.Type, anti.LeftKey.ReturnType], Build(anti.Left), Build(anti.Right), anti.LeftKey, anti.RightKey),
        JoinNode join => New(
            join.Kind == JoinKind.Inner ? typeof(JoinStream<,,,>) : typeof(LeftJoinStream<,,,>),
            [join.Left.Type, join.Right.Type, KeyType(join), join.Type], Build(join.Left), Build(join.Right), join.LeftKey, join.RightKey, join.Result!),
        UnionNode union => Union(union),
        _ => throw new InvalidOperationException($"No physical operator for plan node '{node.Name}'."),
    };

    private PhysicalNode Window(WindowNode window) => window.Window.Kind switch
    {
        WindowKind.Tumbling => New(typeof(TumblingLifetimeStream<>), [window.Type], Build(window.Source), window.Window.Size),
        WindowKind.Hopping => New(typeof(HoppingLifetimeStream<>), [window.Type], Build(window.Source), window.Window.Size, window.Window.Hop),
        _ => throw Internal.Error.Translation("SessionWindow", Internal.Strings.SessionNeedsAggregate()),
    };

    private PhysicalNode Union(UnionNode union)
    {
        var listType = typeof(List<>).MakeGenericType(typeof(PhysicalStream<>).MakeGenericType(union.Type));
        var list = (System.Collections.IList)Activator.CreateInstance(listType)!;
        foreach (var input in union.Children)
        {
            list.Add(Build(input));
        }

        return New(typeof(UnionStream<>), [union.Type], list);
    }

    /// <summary>A group stream that is never aggregated: each group materialized as a whole (buffered).</summary>
    private static AggregateNode Identity(GroupNode group)
    {
        var g = Expression.Parameter(group.Type, "g");
        var node = new AggregateNode(group.Window.Source, group.Window.Window, group.Key, Expression.Lambda(g, g));
        return group.Having is null ? node : throw Internal.Error.Translation("Where", Internal.Strings.HavingNeedsSelect(group.Having.ToString()));
    }

    private static Type KeyType(JoinNode join) =>
        join.LeftKey.ReturnType == join.RightKey.ReturnType ? join.LeftKey.ReturnType
        : throw Internal.Error.Translation(join.Name, Internal.Strings.JoinKeyTypes(join.LeftKey.ToString(), join.RightKey.ToString()));

    private static PhysicalNode New(Type definition, Type[] types, params object?[] arguments)
    {
        try
        {
            return (PhysicalNode)Activator.CreateInstance(definition.MakeGenericType(types), arguments)!;
        }
        catch (System.Reflection.TargetInvocationException ex) when (ex.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
            throw;
        }
    }
}
