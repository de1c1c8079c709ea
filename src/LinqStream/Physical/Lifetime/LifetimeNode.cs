using LinqStream.Plan;

namespace LinqStream.Physical.Lifetime;

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
