using System.Globalization;
using System.Linq.Expressions;
using System.Reflection;
using LinqStream.Cli.Output;
using LinqStream.Cli.Scripting;

namespace LinqStream.Cli.Input;

/// <summary>
/// Makes a value of the wrong kind read by the script (<c>r.Long("price")</c> of 1.5, NaN, 1e400) a malformed input line: the script's
/// query runs with <see cref="ErrorPolicy.SkipAndDeadLetter"/> for <see cref="RowValueException"/> only (<see cref="QueryOptions.SkipWhen"/>),
/// and the engine's dead letter for such an event is reported as the line it came from. Any other exception stops the query as before.
/// </summary>
internal static class WrongKindLines
{
    /// <summary>The query with the policy set in every <see cref="QueryOptions"/> it carries (or in new ones); unchanged if the script chose its own error policy.</summary>
    /// <param name="query">The script's query (an <c>IQStream&lt;T&gt;</c>).</param>
    /// <param name="report">Reports one wrong-kind line: the row, the reason; may throw to stop the run (<c>--strict</c>).</param>
    public static object Apply(object query, Action<Row, string> report) => Apply(query, report, out _);

    /// <summary>As <see cref="Apply(object, Action{Row, string})"/>; <paramref name="installed"/> says whether the policy was set (false when the script chose its own).</summary>
    public static object Apply(object query, Action<Row, string> report, out bool installed)
    {
        var type = QueryRunner.ResultType(query) ?? throw new ArgumentException("Not an IQStream<T>.", nameof(query));
        var method = typeof(WrongKindLines).GetMethod(nameof(ApplyTyped), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type);
        object?[] arguments = [query, report, null];
        var result = method.Invoke(null, arguments)!;
        installed = (bool)arguments[2]!;
        return result;
    }

    private static IQStream<T> ApplyTyped<T>(IQStream<T> query, Action<Row, string> report, out bool installed)
    {
        var rewriter = new Rewriter(report);
        var expression = rewriter.Visit(query.Expression);
        installed = rewriter.Found ? rewriter.Installed : true;
        return rewriter.Found
            ? (IQStream<T>)query.Provider.CreateQuery<T>(expression)
            : query.WithOptions(With(new QueryOptions(), report));
    }

    private static bool OwnPolicy(QueryOptions options) => options.OnError != ErrorPolicy.Fail || options.SkipWhen is not null;

    private static QueryOptions With(QueryOptions options, Action<Row, string> report) =>
        OwnPolicy(options)
            ? options // the script asked for its own error policy
            : options with
            {
                OnError = ErrorPolicy.SkipAndDeadLetter,
                SkipWhen = static e => e is RowValueException,
                DeadLetters = new Sink(options.DeadLetters, report),
            };

    /// <summary>Sends the dead letter of a wrong-kind read to <c>report</c>, and every other one where it went before.</summary>
    private sealed class Sink(IDeadLetterSink? inner, Action<Row, string> report) : IDeadLetterSink
    {
        public void Write(DeadLetter letter)
        {
            ArgumentNullException.ThrowIfNull(letter);
            // The engine writes the dead letter on the thread that caught the exception, right after catching it.
            var error = RowValueException.Last;
            if (error is not null && letter.Reason.EndsWith(error.Message, StringComparison.Ordinal))
            {
                RowValueException.Last = null;
                report(error.Row, error.Reason);
                return;
            }

            if (inner is null)
            {
                throw new InvalidDataException(
                    $"{letter.Source}, {letter.Position}: {letter.Reason}. Record: {letter.Record}. Nothing was skipped.");
            }

            inner.Write(letter);
        }
    }

    private sealed class Rewriter(Action<Row, string> report) : ExpressionVisitor
    {
        public bool Found { get; private set; }

        public bool Installed { get; private set; }

        protected override Expression VisitConstant(ConstantExpression node)
        {
            if (node.Value is QueryOptions options)
            {
                Found = true;
                Installed |= !OwnPolicy(options);
                return Expression.Constant(With(options, report), typeof(QueryOptions));
            }

            return node;
        }
    }

    /// <summary>A wrong-kind line of an input file: reported and dead-lettered as <c>FILE:LINE: reason</c>; under --strict the run stops at it.</summary>
    public static Action<Row, string> ForFile(MalformedLines malformed, InputOptions options) => (row, reason) =>
    {
        malformed.Report(row.Line, reason, row.ToString());
        if (options.Strict)
        {
            throw new MalformedInputException($"{options.DisplayName}:{row.Line.ToString(CultureInfo.InvariantCulture)}: {reason}");
        }
    };

    /// <summary>A wrong-kind message of <c>--source</c>: a dead letter like a malformed message's (which stops the run under --strict).</summary>
    public static Action<Row, string> ForSources(MessageDeadLetters deadLetters, string sources) => (row, reason) =>
        deadLetters.Write(DeadLetter.Create(sources, $"message {row.Line.ToString(CultureInfo.InvariantCulture)}", reason, row.ToString()));
}
