using System.Globalization;
using System.Linq.Expressions;
using System.Reflection;
using LinqStream.Cli.Showcase;

namespace LinqStream.Cli.Output;

/// <summary>
/// Receives a running query's <see cref="QueryProgress"/> (on the query's thread) for the progress bar, which reads <see cref="Latest"/>
/// from the UI thread; when the output is not a terminal, writes each report as a line instead (<c>progress: ...</c>).
/// </summary>
internal sealed class ProgressMonitor(string label, TextWriter? lines) : IProgress<QueryProgress>
{
    private QueryProgress? _latest;

    /// <summary>Gets the last report, or null before the first.</summary>
    public QueryProgress? Latest => Volatile.Read(ref _latest);

    /// <summary>Gets the largest watermark lag of the reports sent while the query ran (the final report has none), or null.</summary>
    public TimeSpan? MaxLag { get; private set; }

    /// <summary>How often the engine reports: what <c>--progress-interval</c> says, else 250 ms for the bar and 5 s for lines.</summary>
    public static TimeSpan Interval(TimeSpan? option, bool bar) => option ?? (bar ? TimeSpan.FromMilliseconds(250) : TimeSpan.FromSeconds(5));

    public void Report(QueryProgress value)
    {
        Volatile.Write(ref _latest, value);
        if (value.IsCompleted)
        {
            return;
        }

        if (value.WatermarkLag is { } lag && (MaxLag is null || lag > MaxLag))
        {
            MaxLag = lag;
        }

        lines?.WriteLine($"progress: {label}: {Describe(value)}");
    }

    /// <summary><c>1,234 events read, 56,789 events/s, watermark 2026-01-01T00:00:10.000Z, watermark lag 5 s</c>.</summary>
    public static string Describe(QueryProgress progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        string watermark = progress.Watermark is { } w ? w.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) : "none";
        return $"{Format.Count(progress.EventsRead)} events read, {Format.Rate(progress.EventsRead, progress.Elapsed)} events/s, "
            + $"watermark {watermark}, watermark lag {Lag(progress.WatermarkLag)}";
    }

    /// <summary>A lag as <c>5 s</c>, or <c>n/a</c> before the first watermark.</summary>
    public static string Lag(TimeSpan? lag) => lag is { } value ? Format.Seconds(value) : "n/a";

    /// <summary>
    /// The query with <paramref name="progress"/> in its options: every <see cref="QueryOptions"/> the script gave (<c>WithOptions</c>)
    /// keeps its settings and gains the progress hook; a query without options gets <c>WithOptions</c> with only the hook.
    /// </summary>
    public static object Attach(object query, IProgress<QueryProgress> progress, TimeSpan interval)
    {
        var type = QueryRunner.ResultType(query) ?? throw new ArgumentException("Not an IQStream<T>.", nameof(query));
        var method = typeof(ProgressMonitor).GetMethod(nameof(AttachTyped), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type);
        return method.Invoke(null, [query, progress, interval])!;
    }

    private static IQStream<T> AttachTyped<T>(IQStream<T> query, IProgress<QueryProgress> progress, TimeSpan interval)
    {
        var rewriter = new OptionsRewriter(progress, interval);
        var expression = rewriter.Visit(query.Expression);
        return rewriter.Found
            ? (IQStream<T>)query.Provider.CreateQuery<T>(expression)
            : query.WithOptions(new QueryOptions { Progress = progress, ProgressInterval = interval });
    }

    private sealed class OptionsRewriter(IProgress<QueryProgress> progress, TimeSpan interval) : ExpressionVisitor
    {
        public bool Found { get; private set; }

        protected override Expression VisitConstant(ConstantExpression node)
        {
            if (node.Value is QueryOptions options)
            {
                Found = true;
                return Expression.Constant(options with { Progress = progress, ProgressInterval = interval }, typeof(QueryOptions));
            }

            return node;
        }
    }
}
