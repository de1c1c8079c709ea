using System.Collections;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Html;

namespace LinqStream.Interactive;

/// <summary>Renders rows (records, anonymous objects, scalars) as an HTML table: one column per public property, times in UTC.</summary>
public static class HtmlTable
{
    /// <summary>Renders <paramref name="rows"/> as an HTML table of at most <paramref name="maxRows"/> rows, followed by the row count.</summary>
    /// <param name="rows">The rows.</param>
    /// <param name="maxRows">The most rows shown; the count line says how many there were.</param>
    /// <returns>The HTML text.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="rows"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxRows"/> is less than 1.</exception>
    public static string Render(IEnumerable rows, int maxRows = 100)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
        var elementType = ElementType(rows.GetType());
        var shown = new List<object?>();
        long count = 0;
        foreach (object? row in rows)
        {
            if (count++ < maxRows)
            {
                shown.Add(row);
            }
        }

        return Render(elementType ?? shown.FirstOrDefault(r => r is not null)?.GetType() ?? typeof(object), shown, count, complete: true);
    }

    /// <summary>Wraps the table of <paramref name="rows"/> as HTML content, which a notebook displays as it is.</summary>
    /// <typeparam name="T">The row type.</typeparam>
    /// <param name="rows">The rows.</param>
    /// <param name="maxRows">The most rows shown.</param>
    /// <returns>The HTML content.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="rows"/> is null.</exception>
    public static IHtmlContent ToHtmlTable<T>(this IEnumerable<T> rows, int maxRows = 100) => new HtmlString(Render(rows, maxRows));

    internal static string Render(Type elementType, IReadOnlyList<object?> rows, long count, bool complete)
    {
        var columns = Cells.Columns(elementType);
        var html = new StringBuilder("<table class=\"linqstream\"><thead><tr>");
        foreach (string name in columns?.Select(c => c.Name) ?? ["value"])
        {
            html.Append("<th>").Append(WebUtility.HtmlEncode(name)).Append("</th>");
        }

        html.Append("</tr></thead><tbody>");
        foreach (object? row in rows)
        {
            html.Append("<tr>");
            foreach (object? value in columns is null ? [row] : columns.Select(c => row is null ? null : c.GetValue(row)))
            {
                html.Append("<td>").Append(WebUtility.HtmlEncode(Cells.Text(value))).Append("</td>");
            }

            html.Append("</tr>");
        }

        html.Append("</tbody></table><p><i>");
        string shown = rows.Count.ToString("N0", CultureInfo.InvariantCulture);
        string total = count.ToString("N0", CultureInfo.InvariantCulture);
        html.Append(!complete ? $"first {shown} results (the query has more)"
            : rows.Count < count ? $"first {shown} of {total} rows"
            : count == 1 ? "1 row" : $"{total} rows");
        return html.Append("</i></p>").ToString();
    }

    private static Type? ElementType(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];
}
