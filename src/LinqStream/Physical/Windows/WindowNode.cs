using LinqStream.Plan;
using LinqStream.Temporal;

namespace LinqStream.Physical.Windows;

/// <summary>A window as a lifetime change (events live for their window).</summary>
internal sealed class WindowNode(PlanNode source, WindowSpec window) : UnaryNode(source)
{
    public WindowSpec Window { get; } = window;

    public override Type Type => Source.Type;

    public override string Name => "Window";

    public override string Detail => Window.ToString();

    protected override PlanNode With(PlanNode source) => new WindowNode(source, Window);
}
