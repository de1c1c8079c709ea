using Microsoft.CodeAnalysis;

namespace LinqStream.Analyzers;

internal static partial class DiagnosticDescriptors
{
    /// <summary>LSQ0003: a blocking call inside a query.</summary>
    public static readonly DiagnosticDescriptor BlockingCall = Create(
        "LSQ0003",
        PerformanceCategory,
        DiagnosticSeverity.Warning,
        "Do not block inside a query",
        "'{0}' blocks on {1} for every event, which stalls the whole stream; load the data before the query, or join with a stream of it",
        "Query lambdas run on the engine's thread, once per event. A blocking wait, a sleep, or file or network I/O there " +
        "stops every operator of the query until it returns.");

    /// <summary>LSQ0005: join input state that is never freed.</summary>
    public static readonly DiagnosticDescriptor UnboundedJoinState = Create(
        "LSQ0005",
        PerformanceCategory,
        DiagnosticSeverity.Warning,
        "Give join inputs a lifetime that ends",
        "The lifetime end '{0}' never comes, so the join keeps every event of this input forever; give events a finite lifetime (for example 'e => e.Expires' or ExtendLifetime(TimeSpan.FromHours(1)))",
        "A temporal join keeps each event until the watermark passes its end. An event whose lifetime never ends is kept forever, " +
        "so the join's state grows without bound on a live stream.");

    /// <summary>LSQ0007: a window expression that buffers the whole window.</summary>
    public static readonly DiagnosticDescriptor BufferedWindow = Create(
        "LSQ0007",
        PerformanceCategory,
        DiagnosticSeverity.Info,
        "Aggregate windows with incremental aggregates",
        "The window expression '{0}' has no incremental form, so every event of each window is kept until the window closes; use aggregates that fold one event at a time (Count, Sum, Min, Max, Average, Any, All, Select(f).Distinct().Count(), OrderByDescending(f).Take(k), or an IAggregate)",
        "Built-in aggregates keep one accumulator per key per open window. Any other use of the window's events (ToList, First, " +
        "the group passed as a whole) keeps every event until the window closes; strict mode refuses it.");

    /// <summary>LSQ0010: ToListAsync on a query with a live source and no way to stop it.</summary>
    public static readonly DiagnosticDescriptor CollectLiveStream = Create(
        "LSQ0010",
        PerformanceCategory,
        DiagnosticSeverity.Warning,
        "Do not collect a live stream without a way to stop",
        "'{0}' waits for the end of the live source '{1}', which never comes, and keeps every result until then; pass a CancellationToken, or take results as they come with Subscribe or ToAsyncEnumerable",
        "ToListAsync completes when every source of the query has ended. A source made from an IObservable is live: it ends only if the " +
        "observable completes, so the task may never complete while the list grows.");
}
