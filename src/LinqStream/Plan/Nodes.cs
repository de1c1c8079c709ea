using System.Linq.Expressions;
using LinqStream.Physical.Pipeline;
using LinqStream.Temporal;

namespace LinqStream.Plan;

/// <summary>An ingress: the user's data, its time selectors and its disorder policy.</summary>
internal sealed class SourceNode(object source, Type type, LambdaExpression time, LambdaExpression? end, IngressPolicy policy, string sourceName) : PlanNode
{
    public object Source { get; } = source;

    public LambdaExpression Time { get; } = time;

    public LambdaExpression? End { get; } = end;

    public IngressPolicy Policy { get; } = policy;

    public string SourceName { get; } = sourceName;

    public override Type Type { get; } = type;

    public override IReadOnlyList<PlanNode> Children => [];

    public override string Name => "From";

    public override string Detail => $"{SourceName}, time: {Time}{(End is null ? string.Empty : ", end: " + End)}, policy: {Policy}";

    public override PlanNode Update(IReadOnlyList<PlanNode> children) => this;

    public SourceNode WithLifetime(LambdaExpression start, LambdaExpression end) => new(Source, Type, start, end, Policy, SourceName);
}

internal sealed class WhereNode(PlanNode source, LambdaExpression predicate) : UnaryNode(source)
{
    public LambdaExpression Predicate { get; } = predicate;

    public override Type Type => Source.Type;

    public override string Name => "Where";

    public override string Detail => Predicate.ToString();

    protected override PlanNode With(PlanNode source) => new WhereNode(source, Predicate);
}

internal sealed class SelectNode(PlanNode source, LambdaExpression selector) : UnaryNode(source)
{
    public LambdaExpression Selector { get; } = selector;

    public override Type Type => Selector.ReturnType;

    public override string Name => "Select";

    public override string Detail => Selector.ToString();

    protected override PlanNode With(PlanNode source) => new SelectNode(source, Selector);
}

/// <summary>A fused chain of filters and projections, compiled into one kernel.</summary>
internal sealed class PipelineNode(PlanNode source, IReadOnlyList<PipelineStep> steps) : UnaryNode(source)
{
    public IReadOnlyList<PipelineStep> Steps { get; } = steps;

    public override Type Type
    {
        get
        {
            for (int i = Steps.Count - 1; i >= 0; i--)
            {
                if (!Steps[i].IsFilter)
                {
                    return Steps[i].Lambda.ReturnType;
                }
            }

            return Source.Type;
        }
    }

    public override string Name => Steps.Count == 1 ? Steps[0].OperatorName : $"Fused[{string.Join(" > ", Steps.Select(s => s.OperatorName))}]";

    public override string Detail => string.Join(" > ", Steps.Select(s => s.Lambda.ToString()));

    protected override PlanNode With(PlanNode source) => new PipelineNode(source, Steps);
}

/// <summary>Each event replaced by the elements of a sequence (same lifetime).</summary>
internal sealed class SelectManyNode(PlanNode source, LambdaExpression selector) : UnaryNode(source)
{
    public LambdaExpression Selector { get; } = selector;

    public override Type Type { get; } = ElementOf(selector.ReturnType);

    public override string Name => "SelectMany";

    public override string Detail => Selector.ToString();

    protected override PlanNode With(PlanNode source) => new SelectManyNode(source, Selector);

    public static Type ElementOf(Type sequence) =>
        sequence.IsGenericType && sequence.GetGenericTypeDefinition() == typeof(IEnumerable<>) ? sequence.GetGenericArguments()[0]
        : sequence.GetInterfaces().First(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>)).GetGenericArguments()[0];
}

/// <summary>A window as a lifetime change (events live for their window).</summary>
internal sealed class WindowNode(PlanNode source, WindowSpec window) : UnaryNode(source)
{
    public WindowSpec Window { get; } = window;

    public override Type Type => Source.Type;

    public override string Name => "Window";

    public override string Detail => Window.ToString();

    protected override PlanNode With(PlanNode source) => new WindowNode(source, Window);
}

/// <summary><c>GroupBy</c> on a windowed stream, before its <c>Select</c>; <see cref="Having"/> holds <c>Where(g =&gt; ...)</c> on the groups.</summary>
internal sealed class GroupNode(WindowNode window, LambdaExpression key, LambdaExpression? having) : PlanNode
{
    public WindowNode Window { get; } = window;

    public LambdaExpression Key { get; } = key;

    public LambdaExpression? Having { get; } = having;

    public override Type Type { get; } = typeof(IWindowGroup<,>).MakeGenericType(key.ReturnType, window.Type);

    public override IReadOnlyList<PlanNode> Children => [Window];

    public override string Name => "GroupBy";

    public override string Detail => Key.ToString() + (Having is null ? string.Empty : ", having " + Having);

    public override PlanNode Update(IReadOnlyList<PlanNode> children) => ReferenceEquals(children[0], Window) ? this : new GroupNode((WindowNode)children[0], Key, Having);
}

/// <summary>Aggregation per window (and key): the window's source, the window, the key (null for whole windows) and the result selector.</summary>
internal sealed class AggregateNode(PlanNode source, WindowSpec window, LambdaExpression? key, LambdaExpression selector) : UnaryNode(source)
{
    public WindowSpec Window { get; } = window;

    public LambdaExpression? Key { get; } = key;

    public LambdaExpression Selector { get; } = selector;

    public override Type Type => Selector.ReturnType;

    public override string Name => "WindowAggregate";

    public override string Detail => $"{Window}{(Key is null ? string.Empty : ", key: " + Key)}, select: {Selector}";

    protected override PlanNode With(PlanNode source) => new AggregateNode(source, Window, Key, Selector);
}

internal enum LifetimeKind
{
    Extend,
    Shift,
    Point,
}

internal sealed class LifetimeNode(PlanNode source, LifetimeKind kind, long ticks) : UnaryNode(source)
{
    public LifetimeKind Kind { get; } = kind;

    public long Ticks { get; } = ticks;

    public override Type Type => Source.Type;

    public override string Name => Kind switch { LifetimeKind.Extend => "ExtendLifetime", LifetimeKind.Shift => "ShiftTime", _ => "ToPointEvents" };

    public override string Detail => Kind == LifetimeKind.Point ? string.Empty : TimeSpan.FromTicks(Ticks).ToString();

    protected override PlanNode With(PlanNode source) => new LifetimeNode(source, Kind, Ticks);
}

internal sealed class ClipNode(PlanNode source, LambdaExpression key) : UnaryNode(source)
{
    public LambdaExpression Key { get; } = key;

    public override Type Type => Source.Type;

    public override string Name => "ClipLifetime";

    public override string Detail => Key.ToString();

    protected override PlanNode With(PlanNode source) => new ClipNode(source, Key);
}

internal enum JoinKind
{
    Inner,
    Left,
    Anti,
}

internal sealed class JoinNode(PlanNode left, PlanNode right, JoinKind kind, LambdaExpression leftKey, LambdaExpression rightKey, LambdaExpression? result) : PlanNode
{
    public PlanNode Left { get; } = left;

    public PlanNode Right { get; } = right;

    public JoinKind Kind { get; } = kind;

    public LambdaExpression LeftKey { get; } = leftKey;

    public LambdaExpression RightKey { get; } = rightKey;

    public LambdaExpression? Result { get; } = result;

    public override Type Type => Result?.ReturnType ?? Left.Type;

    public override IReadOnlyList<PlanNode> Children => [Left, Right];

    public override string Name => Kind switch { JoinKind.Inner => "Join", JoinKind.Left => "LeftJoin", _ => "WhereNotExists" };

    public override string Detail => $"{LeftKey} == {RightKey}{(Result is null ? string.Empty : ", select: " + Result)}";

    public override PlanNode Update(IReadOnlyList<PlanNode> children) =>
        ReferenceEquals(children[0], Left) && ReferenceEquals(children[1], Right) ? this : new JoinNode(children[0], children[1], Kind, LeftKey, RightKey, Result);
}

internal sealed class UnionNode(IReadOnlyList<PlanNode> inputs) : PlanNode
{
    public override Type Type => inputs[0].Type;

    public override IReadOnlyList<PlanNode> Children => inputs;

    public override string Name => "Union";

    public override PlanNode Update(IReadOnlyList<PlanNode> children) => Same(children, inputs) ? this : new UnionNode(children);
}
