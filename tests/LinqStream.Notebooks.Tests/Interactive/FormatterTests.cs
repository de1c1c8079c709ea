using LinqStream.Interactive;
using Microsoft.DotNet.Interactive.Formatting;

namespace LinqStream.Notebooks.Tests.Interactive;

public sealed class FormatterTests
{
    private sealed record Reading(string Sensor, double Value, DateTime Time);

    private static readonly DateTime s_t0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public FormatterTests() => LinqStreamFormatters.Register();

    [Fact]
    public void ResultList_DisplaysAsTheHtmlTable()
    {
        var results = new List<Reading> { new("a", 1.5, s_t0) };

        Assert.Equal(HtmlTable.Render(results), results.ToDisplayString("text/html"));
    }

    [Fact]
    public void Query_DisplaysAsTheTableOfItsResults()
    {
        var readings = Enumerable.Range(0, 30).Select(i => new Reading(i % 2 == 0 ? "a" : "b", i, s_t0.AddSeconds(i))).ToArray();
        var query =
            from r in QStream.From(readings, r => r.Time).TumblingWindow(TimeSpan.FromSeconds(10))
            group r by r.Sensor into g
            select new { Sensor = g.Key, Sum = g.Sum(r => r.Value), g.Window.End };

        string html = query.ToDisplayString("text/html");

        Assert.StartsWith("<table class=\"linqstream\"><thead><tr><th>Sensor</th><th>Sum</th><th>End</th></tr></thead>", html, StringComparison.Ordinal);
        Assert.Contains("<tr><td>a</td><td>20</td><td>2026-01-01 00:00:10.000</td></tr>", html, StringComparison.Ordinal);
        Assert.EndsWith("<p><i>6 rows</i></p>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void WindowSeries_DisplaysAsAPngChartInADataUri()
    {
        var series = Enumerable.Range(1, 10)
            .Select(i => new Reading(i % 2 == 0 ? "a" : "b", i * i, s_t0.AddSeconds(10 * i)))
            .ToWindowSeries(r => r.Time, r => r.Value, r => r.Sensor, title: "squares");

        string html = series.ToDisplayString("text/html");

        const string Prefix = "<img src=\"data:image/png;base64,";
        Assert.StartsWith(Prefix, html, StringComparison.Ordinal);
        byte[] png = Convert.FromBase64String(html[Prefix.Length..html.IndexOf('"', Prefix.Length)]);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.Contains("alt=\"squares\" width=\"720\" height=\"360\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public void LifetimeDiagram_DisplaysAsPreformattedText()
    {
        var diagram = Lifetimes.Diagram([("a<b", new DateTimeOffset(s_t0), new DateTimeOffset(s_t0.AddSeconds(3)))], TimeSpan.FromSeconds(1));

        Assert.Equal($"<pre>{System.Net.WebUtility.HtmlEncode(diagram.ToString())}</pre>", diagram.ToDisplayString("text/html"));
        Assert.Equal(diagram.ToString(), diagram.ToDisplayString("text/plain"));
    }
}
