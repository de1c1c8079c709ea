using System.Globalization;
using System.Net;
using ScottPlot;

namespace LinqStream.Interactive;

/// <summary>
/// Values over window time, one line per series: what a windowed query gives (for example bids per auction per window end).
/// A notebook displays it as a chart, a PNG that ScottPlot renders headless.
/// </summary>
public sealed class WindowSeries
{
    internal WindowSeries(string title, string valueLabel, IReadOnlyList<WindowPoint> points)
    {
        Title = title;
        ValueLabel = valueLabel;
        Points = points;
    }

    /// <summary>Gets the chart title.</summary>
    public string Title { get; }

    /// <summary>Gets the label of the vertical axis.</summary>
    public string ValueLabel { get; }

    /// <summary>Gets the points, in the order the results came.</summary>
    public IReadOnlyList<WindowPoint> Points { get; }

    /// <summary>Gets the chart width in pixels.</summary>
    /// <value>The default value is 720.</value>
    public int Width { get; init; } = 720;

    /// <summary>Gets the chart height in pixels.</summary>
    /// <value>The default value is 360.</value>
    public int Height { get; init; } = 360;

    /// <summary>Renders the chart as PNG bytes.</summary>
    /// <returns>The PNG image.</returns>
    public byte[] ToPng()
    {
        var plot = new Plot();
        foreach (var series in Points.GroupBy(p => p.Series))
        {
            var ordered = series.OrderBy(p => p.Time).ToArray();
            var line = plot.Add.Scatter(ordered.Select(p => p.Time.UtcDateTime.ToOADate()).ToArray(), ordered.Select(p => p.Value).ToArray());
            line.LegendText = series.Key;
        }

        plot.Axes.DateTimeTicksBottom();
        plot.Title(Title);
        plot.YLabel(ValueLabel);
        plot.XLabel("window end (UTC)");
        if (Points.Select(p => p.Series).Distinct().Skip(1).Any())
        {
            plot.ShowLegend();
        }

        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>Renders the chart as an HTML <c>img</c> element whose source is a <c>data:image/png;base64</c> URI.</summary>
    /// <returns>The HTML text.</returns>
    public string ToHtml() =>
        $"<img src=\"data:image/png;base64,{Convert.ToBase64String(ToPng())}\" alt=\"{WebUtility.HtmlEncode(Title)}\" width=\"{Width.ToString(CultureInfo.InvariantCulture)}\" height=\"{Height.ToString(CultureInfo.InvariantCulture)}\" />";

    /// <summary>Returns a one-line description: the title and how many points and series.</summary>
    /// <returns>The text.</returns>
    public override string ToString() =>
        $"{Title}: {Points.Count.ToString(CultureInfo.InvariantCulture)} points in {Points.Select(p => p.Series).Distinct().Count().ToString(CultureInfo.InvariantCulture)} series";
}

/// <summary>One point of a <see cref="WindowSeries"/>.</summary>
/// <param name="Series">The series (line) it belongs to.</param>
/// <param name="Time">The window time, usually its end.</param>
/// <param name="Value">The value.</param>
public readonly record struct WindowPoint(string Series, DateTimeOffset Time, double Value);

/// <summary>Builds <see cref="WindowSeries"/> from query results.</summary>
public static class WindowSeriesExtensions
{
    /// <summary>Makes a chart of <paramref name="results"/>: <paramref name="value"/> over <paramref name="time"/>, one line per <paramref name="series"/>.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="results">The results, such as the list a windowed query gave.</param>
    /// <param name="time">The window time of a result, usually <c>r =&gt; r.End</c>.</param>
    /// <param name="value">The value to plot.</param>
    /// <param name="series">The line a result belongs to (for example its key), or null for a single line.</param>
    /// <param name="title">The chart title.</param>
    /// <param name="valueLabel">The label of the vertical axis.</param>
    /// <returns>The series.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="results"/>, <paramref name="time"/> or <paramref name="value"/> is null.</exception>
    public static WindowSeries ToWindowSeries<T>(
        this IEnumerable<T> results, Func<T, DateTimeOffset> time, Func<T, double> value, Func<T, string>? series = null, string title = "", string valueLabel = "value")
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(value);
        return new WindowSeries(title, valueLabel, [.. results.Select(r => new WindowPoint(series?.Invoke(r) ?? valueLabel, time(r), value(r)))]);
    }
}
