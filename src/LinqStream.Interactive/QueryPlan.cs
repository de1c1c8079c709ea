using System.Net;

namespace LinqStream.Interactive;

/// <summary>A query's plans as <c>Explain()</c> prints them, which a notebook shows as preformatted text (the plain string would be a one-line value).</summary>
/// <param name="Text">The text of <c>Explain()</c>.</param>
public sealed record QueryPlan(string Text)
{
    /// <summary>Renders the plan as an HTML <c>pre</c> block.</summary>
    /// <returns>The HTML text.</returns>
    public string ToHtml() => $"<pre class=\"linqstream-plan\">{WebUtility.HtmlEncode(Text)}</pre>";

    /// <inheritdoc/>
    public override string ToString() => Text;
}

/// <summary>Extension methods that give a query's plans as a displayable value.</summary>
public static class QueryPlanExtensions
{
    /// <summary>Translates the query without running it and returns its plans (<see cref="QStream.Explain{T}"/>) as a value a notebook displays as text.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="query">The query.</param>
    /// <returns>The plans.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="query"/> is null.</exception>
    /// <exception cref="QueryTranslationException">The query cannot run as a stream.</exception>
    public static QueryPlan ExplainPlan<T>(this IQStream<T> query)
    {
        ArgumentNullException.ThrowIfNull(query);
        return new QueryPlan(query.Explain());
    }
}
