using System.Reflection;
using Microsoft.DotNet.Interactive.Formatting;

namespace LinqStream.Interactive;

/// <summary>
/// Registers LinqStream's notebook display with Microsoft.DotNet.Interactive.Formatting: a query (<c>IQStream&lt;T&gt;</c>) or a result
/// list (<c>List&lt;T&gt;</c>, what <c>ToListAsync</c> gives) as an HTML table, a <see cref="WindowSeries"/> as a chart, a
/// <see cref="LifetimeDiagram"/> as a picture, a <see cref="LiveQueryView"/> as a running query's view, a <see cref="QueryPlan"/> as preformatted text.
/// </summary>
public static class LinqStreamFormatters
{
    private const string Html = "text/html";
    private const string PlainText = "text/plain";

    private static readonly MethodInfo s_firstResults = typeof(LinqStreamFormatters).GetMethod(nameof(FirstResults), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly Lock s_lock = new();
    private static bool s_registered;

    /// <summary>Gets or sets the most rows a table shows.</summary>
    /// <value>The default value is 100. Must be at least 1.</value>
    public static int MaxRows { get; set; } = 100;

    /// <summary>Registers the formatters; calling it again does nothing.</summary>
    /// <remarks>
    /// A query shown in a notebook runs when it is displayed (its sources must be finite) and shows its first <see cref="MaxRows"/> results.
    /// </remarks>
    public static void Register()
    {
        lock (s_lock)
        {
            if (s_registered)
            {
                return;
            }

            Formatter.Register(typeof(List<>), (value, writer) => writer.Write(HtmlTable.Render((System.Collections.IEnumerable)value, MaxRows)), Html);
            Formatter.Register(typeof(IQStream<>), (value, writer) => writer.Write(RenderQuery(value)), Html);
            Formatter.Register<WindowSeries>((series, writer) => writer.Write(series.ToHtml()), Html);
            Formatter.Register<LifetimeDiagram>((diagram, writer) => writer.Write(diagram.ToHtml()), Html);
            Formatter.Register<LifetimeDiagram>((diagram, writer) => writer.Write(diagram.ToString()), PlainText);
            Formatter.Register<LiveQueryView>((view, writer) => writer.Write(view.ToHtml()), Html);
            Formatter.Register<LiveQueryView>((view, writer) => writer.Write(view.ToString()), PlainText);
            Formatter.Register<QueryPlan>((plan, writer) => writer.Write(plan.ToHtml()), Html);
            Formatter.Register<QueryPlan>((plan, writer) => writer.Write(plan.Text), PlainText);
            s_registered = true;
        }
    }

    private static string RenderQuery(object query)
    {
        var type = query.GetType().GetInterfaces().Append(query.GetType())
            .First(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IQStream<>)).GetGenericArguments()[0];
        var (rows, complete) = ((List<object?>, bool))s_firstResults.MakeGenericMethod(type).Invoke(null, [query, MaxRows])!;
        return HtmlTable.Render(type, rows, rows.Count, complete);
    }

    /// <summary>Runs the query until it ends or has given <paramref name="max"/> results and one more (to tell whether there are more).</summary>
    private static (List<object?> Rows, bool Complete) FirstResults<T>(IQStream<T> query, int max) =>
        FirstResultsAsync(query, max).AsTask().GetAwaiter().GetResult();

    private static async ValueTask<(List<object?> Rows, bool Complete)> FirstResultsAsync<T>(IQStream<T> query, int max)
    {
        var rows = new List<object?>();
        using var stop = new CancellationTokenSource();
        try
        {
            await foreach (var result in query.ToAsyncEnumerable(stop.Token).ConfigureAwait(false))
            {
                if (rows.Count == max)
                {
                    await stop.CancelAsync().ConfigureAwait(false);
                    return (rows, false);
                }

                rows.Add(result);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return (rows, false);
        }

        return (rows, true);
    }
}
