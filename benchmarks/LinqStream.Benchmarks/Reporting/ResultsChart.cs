using ScottPlot;

namespace LinqStream.Benchmarks.Reporting;

/// <summary>Renders events/s per benchmark as horizontal bars on a log scale: Rx.NET, LinqStream and the hand-written loop side by side.</summary>
public static class ResultsChart
{
    private static readonly Dictionary<string, Color> Colors = new()
    {
        ["Rx.NET"] = Color.FromHex("#b2182b"),
        ["LinqStream"] = Color.FromHex("#2166ac"),
        ["hand loop"] = Color.FromHex("#999999"),
    };

    /// <summary>Writes the chart as a PNG; one bar per row that has a time, grouped by benchmark and parameters.</summary>
    public static void Render(IReadOnlyList<BenchmarkRow> rows, string path)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var measured = rows.Where(r => r.MeanNs > 0 && !double.IsNaN(r.MeanNs)).ToList();
        var plot = new Plot();
        var bars = new List<Bar>();
        var labels = new ScottPlot.TickGenerators.NumericManual();
        double position = 0;
        string? group = null;
        foreach (var row in measured.AsEnumerable().Reverse())
        {
            string rowGroup = row.Class + "|" + row.Parameters;
            if (group is not null && rowGroup != group)
            {
                position += 0.6; // a gap between benchmarks
            }

            group = rowGroup;
            bars.Add(new Bar
            {
                Position = position,
                Value = Math.Log10(row.EventsPerSecond),
                ValueBase = 0,
                FillColor = Colors[row.Engine],
                LineWidth = 0,
            });
            string parameters = row.Parameters.Length == 0 ? string.Empty : $" ({row.Parameters})";
            labels.AddMajor(position, $"{row.Class}{parameters} · {row.Method}");
            position += 1;
        }

        var barPlot = plot.Add.Bars(bars);
        barPlot.Horizontal = true;
        plot.Axes.Left.TickGenerator = labels;
        plot.Axes.Left.TickLabelStyle.FontSize = 11;

        var scale = new ScottPlot.TickGenerators.NumericManual();
        for (int exponent = 3; exponent <= 10; exponent++)
        {
            scale.AddMajor(exponent, exponent >= 9 ? $"{Math.Pow(10, exponent - 9):0} G" : exponent >= 6 ? $"{Math.Pow(10, exponent - 6):0} M" : $"{Math.Pow(10, exponent - 3):0} K");
            for (int m = 2; m <= 9; m++)
            {
                scale.AddMinor(exponent + Math.Log10(m));
            }
        }

        plot.Axes.Bottom.TickGenerator = scale;
        plot.Axes.Bottom.Label.Text = "events per second (log scale)";
        double lowest = measured.Count == 0 ? 3 : Math.Floor(measured.Min(r => Math.Log10(r.EventsPerSecond)));
        double highest = measured.Count == 0 ? 9 : Math.Ceiling(measured.Max(r => Math.Log10(r.EventsPerSecond)));
        plot.Axes.SetLimitsX(Math.Max(0, lowest - 0.2), highest + 0.1);
        plot.Axes.SetLimitsY(-1, position);
        foreach (var (engine, color) in Colors)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = engine, FillColor = color });
        }

        plot.ShowLegend(Alignment.LowerRight);
        plot.Title("LinqStream vs Rx.NET vs hand-written loop, single thread");
        plot.SavePng(path, 1400, Math.Max(400, 120 + (int)(position * 18)));
    }
}
