namespace LinqStream.Internal;

/// <summary>Builds the exceptions LinqStream throws or sends downstream.</summary>
internal static class Error
{
    public static QueryExecutionException OperatorFailed(string op, string expression, Exception inner) =>
        inner as QueryExecutionException ?? new QueryExecutionException(Strings.OperatorFailed(op, expression, inner), inner) { Operator = op, Expression = expression };

    public static QueryExecutionException OperatorFailedOnEvent(string op, string expression, Exception inner, long start, object? payload, string site) =>
        new(Strings.OperatorFailedOnEvent(op, expression, inner, start, payload, site), inner) { Operator = op, Expression = expression };

    public static QueryExecutionException SourceFailed(string source, long position, Exception inner) =>
        new(Strings.SourceFailed(source, position, inner), inner) { Operator = "From" };

    public static QueryExecutionException EventTimeFailed(string source, long position, Exception inner) =>
        new(Strings.EventTimeFailed(source, position, inner), inner) { Operator = "From" };

    public static QueryTranslationException TranslationFailed(System.Linq.Expressions.Expression query, IReadOnlyList<(string Operator, string Reason)> failures) =>
        new(Strings.TranslationFailed(query.ToString(), failures))
        {
            Operator = failures[0].Operator,
            Reasons = failures.Select(f => f.Reason).ToArray(),
        };

    public static QueryTranslationException Translation(string op, string reason) =>
        new(reason) { Operator = op, Reasons = [reason] };
}
