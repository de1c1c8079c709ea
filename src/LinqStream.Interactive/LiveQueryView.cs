using System.Globalization;
using System.Net;
using System.Text;

namespace LinqStream.Interactive;

/// <summary>Where a query shown by <see cref="LiveQuery.DisplayLiveAsync{T}"/> is.</summary>
public enum LiveQueryState
{
    /// <summary>The query is running.</summary>
    Running,

    /// <summary>The query ran to its end.</summary>
    Completed,

    /// <summary>The query was stopped: the cell was cancelled.</summary>
    Cancelled,

    /// <summary>The query failed.</summary>
    Failed,
}

/// <summary>
/// One picture of a running query, as the notebook shows it: events read, events per second, watermark lag, results so far with the latest
/// ones, and a throughput chart; once the query has ended, its final table. Each display update replaces the previous picture.
/// </summary>
public sealed class LiveQueryView
{
    internal LiveQueryView(
        LiveQueryState state, Type rowType, long eventsRead, double eventsPerSecond, TimeSpan? watermarkLag, long results,
        IReadOnlyList<object?> rows, IReadOnlyList<double> throughput, string? error)
    {
        State = state;
        RowType = rowType;
        EventsRead = eventsRead;
        EventsPerSecond = eventsPerSecond;
        WatermarkLag = watermarkLag;
        Results = results;
        Rows = rows;
        Throughput = throughput;
        Error = error;
    }

    /// <summary>Gets where the query is.</summary>
    public LiveQueryState State { get; }

    /// <summary>Gets the type of the query's results.</summary>
    public Type RowType { get; }

    /// <summary>Gets the number of events read from the query's sources so far.</summary>
    public long EventsRead { get; }

    /// <summary>Gets the events read per second over the last update interval.</summary>
    public double EventsPerSecond { get; }

    /// <summary>Gets how far the watermark is behind the latest event time read, or null when it is not known.</summary>
    public TimeSpan? WatermarkLag { get; }

    /// <summary>Gets the number of results so far.</summary>
    public long Results { get; }

    /// <summary>Gets the rows shown: the latest results while the query runs, the first results (the final table) once it has ended.</summary>
    public IReadOnlyList<object?> Rows { get; }

    /// <summary>Gets the events-per-second samples of the chart, oldest first.</summary>
    public IReadOnlyList<double> Throughput { get; }

    /// <summary>Gets the error message of a failed query.</summary>
    public string? Error { get; }

    /// <summary>Renders the view as HTML: a status line, a throughput chart while running, and the table.</summary>
    /// <returns>The HTML text.</returns>
    public string ToHtml()
    {
        var html = new StringBuilder("<div class=\"linqstream-live\"><p><b>").Append(Status()).Append("</b></p>");
        if (State == LiveQueryState.Running && Throughput.Count >= 2)
        {
            html.Append(Sparkline());
        }

        if (State == LiveQueryState.Running)
        {
            html.Append("<p><i>latest results</i></p>");
            html.Append(HtmlTable.Render(RowType, Rows, Rows.Count, complete: true));
        }
        else
        {
            html.Append(HtmlTable.Render(RowType, Rows, Results, complete: true));
        }

        return html.Append("</div>").ToString();
    }

    /// <summary>The status line as text.</summary>
    /// <returns>For example "running: 120,000 events read, 40,000 events/s, watermark lag 00:00:02, 35 results".</returns>
    public override string ToString() => Status();

    private string Status()
    {
        string events = EventsRead.ToString("N0", CultureInfo.InvariantCulture);
        string results = Results.ToString("N0", CultureInfo.InvariantCulture);
        return State switch
        {
            LiveQueryState.Running => $"running: {events} events read, {EventsPerSecond.ToString("N0", CultureInfo.InvariantCulture)} events/s, "
                + $"watermark lag {(WatermarkLag is { } lag ? lag.ToString("c", CultureInfo.InvariantCulture) : "unknown")}, {results} results",
            LiveQueryState.Completed => $"completed: {results} results",
            LiveQueryState.Cancelled => $"stopped (the cell was cancelled) after {events} events read and {results} results",
            _ => $"failed after {events} events read and {results} results: {WebUtility.HtmlEncode(Error)}",
        };
    }

    /// <summary>A small SVG line chart of the throughput samples (no image library: it is redrawn at every update).</summary>
    private string Sparkline()
    {
        const int width = 240, height = 40;
        double max = Math.Max(1, Throughput.Max());
        var points = new StringBuilder();
        for (int i = 0; i < Throughput.Count; i++)
        {
            double x = i * (width - 1.0) / (Throughput.Count - 1);
            double y = height - 1 - (Throughput[i] / max * (height - 2));
            points.Append(x.ToString("0.#", CultureInfo.InvariantCulture)).Append(',').Append(y.ToString("0.#", CultureInfo.InvariantCulture)).Append(' ');
        }

        return $"<svg width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"events per second\"><polyline fill=\"none\" stroke=\"steelblue\" stroke-width=\"1.5\" points=\"{points.ToString().TrimEnd()}\"/></svg>"
            + $"<span> events/s (max {max.ToString("N0", CultureInfo.InvariantCulture)})</span>";
    }
}
