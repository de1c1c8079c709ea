using System.Globalization;
using System.Text;

namespace LinqStream.Benchmarks.Infrastructure;

/// <summary>A benchmark computed a different answer from the naive model of its query.</summary>
public sealed class AnswerMismatchException : Exception
{
    public AnswerMismatchException()
    {
    }

    public AnswerMismatchException(string message)
        : base(message)
    {
    }

    public AnswerMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Compares results as multisets: streaming engines promise which results come out, and an order only up to ties.</summary>
public static class Answers
{
    private const int Examples = 5;

    /// <summary>Throws <see cref="AnswerMismatchException"/> unless <paramref name="actual"/> holds the same results as <paramref name="expected"/>, each as often.</summary>
    /// <param name="what">The query and implementation, for the message (for example "q5 hot items, Rx.NET").</param>
    /// <param name="expected">The model's results.</param>
    /// <param name="actual">The implementation's results.</param>
    /// <param name="canonical">Maps a result to a value with value equality (defaults to the result itself).</param>
    public static void SameMultiset<T>(string what, IEnumerable<T> expected, IEnumerable<T> actual, Func<T, object>? canonical = null)
    {
        canonical ??= static r => r!;
        var counts = new Dictionary<object, int>();
        int expectedCount = 0, actualCount = 0;
        foreach (var r in expected)
        {
            var key = canonical(r);
            counts[key] = counts.GetValueOrDefault(key) + 1;
            expectedCount++;
        }

        foreach (var r in actual)
        {
            var key = canonical(r);
            counts[key] = counts.GetValueOrDefault(key) - 1;
            actualCount++;
        }

        var missing = counts.Where(c => c.Value > 0).ToList();
        var extra = counts.Where(c => c.Value < 0).ToList();
        if (missing.Count == 0 && extra.Count == 0)
        {
            return;
        }

        var message = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"{what}: wrong answer ({actualCount} results, the model has {expectedCount}; ")
            .Append(CultureInfo.InvariantCulture, $"{missing.Sum(m => m.Value)} missing, {-extra.Sum(e => e.Value)} unexpected).");
        foreach (var m in missing.Take(Examples))
        {
            message.Append(CultureInfo.InvariantCulture, $"\n  missing ×{m.Value}: {m.Key}");
        }

        foreach (var e in extra.Take(Examples))
        {
            message.Append(CultureInfo.InvariantCulture, $"\n  unexpected ×{-e.Value}: {e.Key}");
        }

        throw new AnswerMismatchException(message.ToString());
    }

    /// <summary>"N events, M results", for the checks' output.</summary>
    public static string Summary(long events, long results) =>
        string.Create(CultureInfo.InvariantCulture, $"{events:N0} events, {results:N0} results");

    /// <summary>Throws unless a query produced at least one result: an empty answer would make every comparison vacuous.</summary>
    public static void NotEmpty<T>(string what, IReadOnlyCollection<T> expected)
    {
        if (expected.Count == 0)
        {
            throw new AnswerMismatchException($"{what}: the model produced no result, so the check would prove nothing; enlarge the input.");
        }
    }
}
