using LinqStream.Interactive;

namespace LinqStream.Notebooks.Tests.Interactive;

public sealed class LifetimeDiagramTests
{
    private static readonly DateTimeOffset s_t0 = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Diagram_PointsAndIntervals_DrawsBarsAndTicksOnAnAxis()
    {
        var diagram = Lifetimes.Diagram(
            [
                ("window", s_t0, s_t0.AddSeconds(10)),
                ("bid", s_t0.AddSeconds(3), s_t0.AddSeconds(3).AddTicks(1)),
                ("late", s_t0.AddSeconds(12), s_t0.AddSeconds(14)),
            ],
            TimeSpan.FromSeconds(1));

        Assert.Equal(
            """
                   12:00:00  12:00:10
                   +----+----+----
            window [========)
            bid       |
            late               [)
            """.ReplaceLineEndings("\n"),
            diagram.ToString().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Diagram_OfStreamEvents_LabelsEachLineFromThePayload()
    {
        var events = new[] { new StreamEvent<string>(s_t0.UtcTicks, s_t0.AddSeconds(2).UtcTicks, "x") };

        var diagram = events.Diagram(p => p, TimeSpan.FromSeconds(1));

        Assert.EndsWith("x [)", diagram.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Diagram_NoEvents_SaysSo() =>
        Assert.Equal("(no events)", Lifetimes.Diagram([], TimeSpan.FromSeconds(1)).ToString());
}
