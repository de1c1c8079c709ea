using LinqStream.Interactive;

namespace LinqStream.Notebooks.Tests.Interactive;

public sealed class HtmlTableTests
{
    private sealed record Window(string Page, int Clicks, DateTimeOffset End);

    [Fact]
    public void Render_Records_OneColumnPerPropertyTimesInUtcAndTheRowCount()
    {
        var rows = new List<Window> { new("/home", 2, new DateTimeOffset(2026, 1, 1, 10, 0, 10, TimeSpan.FromHours(1))) };

        string html = HtmlTable.Render(rows);

        Assert.Equal(
            "<table class=\"linqstream\"><thead><tr><th>Page</th><th>Clicks</th><th>End</th></tr></thead>"
            + "<tbody><tr><td>/home</td><td>2</td><td>2026-01-01 09:00:10.000</td></tr></tbody></table><p><i>1 row</i></p>",
            html);
    }

    [Fact]
    public void Render_MoreRowsThanTheMaximum_ShowsTheFirstAndSaysHowMany()
    {
        string html = HtmlTable.Render(Enumerable.Range(1, 1500).ToArray(), maxRows: 3);

        Assert.Contains("<th>value</th>", html, StringComparison.Ordinal);
        Assert.Contains("<td>3</td>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<td>4</td>", html, StringComparison.Ordinal);
        Assert.EndsWith("<p><i>first 3 of 1,500 rows</i></p>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_TextWithMarkup_IsEncoded()
    {
        string html = HtmlTable.Render(new List<string> { "<b>&</b>" });

        Assert.Contains("<td>&lt;b&gt;&amp;&lt;/b&gt;</td>", html, StringComparison.Ordinal);
    }
}
