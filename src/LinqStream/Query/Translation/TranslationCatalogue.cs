// Shared with analyzers/LinqStream.Analyzers (linked as a source file): keep it netstandard2.0-friendly C#
// (no string.Replace(string, string, StringComparison), no CompositeFormat, no ArgumentNullException.ThrowIfNull).
// The analyzer project has no implicit usings and no file-scoped namespaces' preference, hence these two exceptions.
#pragma warning disable IDE0005, IDE0161
using System;
using System.Collections.Generic;

namespace LinqStream.Query.Translation
{
    /// <summary>Why an operator has no streaming meaning, and what to write instead.</summary>
    internal sealed class CatalogueEntry
    {
        public CatalogueEntry(string family, string reason, string fix)
        {
            Family = family;
            Reason = reason;
            Fix = fix;
        }

        /// <summary>Gets the family: "aggregate", "terminal", "processing-time", "count-based", "control".</summary>
        public string Family { get; }

        public string Reason { get; }

        public string Fix { get; }
    }

    /// <summary>
    /// The one list of what translates: the runtime translator and the analyzers read it, so the IDE and <c>Subscribe</c> agree.
    /// </summary>
    internal static class TranslationCatalogue
    {
        /// <summary>Gets the methods of <c>LinqStream.QStream</c> (and the same-named Rx <c>Qbservable</c> operators) that translate.</summary>
        public static readonly string[] Translated =
        {
            "From", "FromKeyPartitioned", "Where", "Select", "SelectMany", "Union", "Merge", "TumblingWindow", "HoppingWindow", "SessionWindow", "GroupBy",
            "WithLifetime", "ExtendLifetime", "ShiftTime", "ToPointEvents", "ClipLifetime", "Over", "Join", "LeftJoin", "WhereNotExists",
            "WithOptions", "Explain", "Subscribe", "ToAsyncEnumerable", "ToListAsync", "ToStreamEvents", "ToJob", "ToParallelSinkJob",
            "AsObservable", // Rx's AsObservable returns the query itself as an IObservable: nothing to translate, the engine runs it as it is
        };

        /// <summary>Gets the aggregates that have an incremental form inside a window's <c>Select</c>.</summary>
        public static readonly string[] IncrementalAggregates =
        {
            "Count", "LongCount", "Sum", "Min", "Max", "Average", "Any", "All", "Distinct", "OrderBy", "OrderByDescending", "ThenBy", "ThenByDescending", "Take", "MaxBy", "MinBy", "Aggregate", "Where", "Select",
        };

        private static string WindowFix(string name) =>
            "Window the stream first, for example 'stream.TumblingWindow(TimeSpan.FromSeconds(10)).Select(w => w." + name + "(...))' or 'stream.TumblingWindow(...).GroupBy(key).Select(g => g." + name + "(...))'";

        private static readonly Dictionary<string, CatalogueEntry> s_rejected = Build();

        /// <summary>Finds why <paramref name="method"/> does not translate, or null when it does (or is unknown).</summary>
        public static CatalogueEntry? FindRejected(string method) => s_rejected.TryGetValue(method, out var entry) ? entry : null;

        /// <summary>Gets a value indicating whether <paramref name="method"/> is an aggregate that needs a window on an unbounded stream.</summary>
        public static bool NeedsWindow(string method) => s_rejected.TryGetValue(method, out var entry) && entry.Family == "aggregate";

        private static Dictionary<string, CatalogueEntry> Build()
        {
            var map = new Dictionary<string, CatalogueEntry>(StringComparer.Ordinal);
            foreach (var name in new[] { "Count", "LongCount", "Sum", "Min", "Max", "Average", "Aggregate", "Scan", "ToList", "ToArray", "ToDictionary", "ToLookup", "Distinct", "MinBy", "MaxBy", "IsEmpty", "Contains", "Any", "All", "SequenceEqual" })
            {
                map[name] = new CatalogueEntry("aggregate", "an aggregate over an unbounded stream never ends and keeps state forever", WindowFix(name));
            }

            foreach (var name in new[] { "GroupBy", "GroupByUntil" })
            {
                map[name] = new CatalogueEntry("aggregate", "grouping an unbounded stream without a window keeps every group forever", "Window the stream first: 'stream.TumblingWindow(size).GroupBy(key).Select(g => ...)'");
            }

            foreach (var name in new[] { "OrderBy", "OrderByDescending", "ThenBy", "ThenByDescending", "Reverse" })
            {
                map[name] = new CatalogueEntry("aggregate", "sorting an unbounded stream would wait for its end", "Streams are already in event-time order; to rank, use top-k inside a window: 'stream.TumblingWindow(size).Select(w => w.OrderByDescending(f).Take(k))'");
            }

            foreach (var name in new[] { "First", "FirstAsync", "FirstOrDefault", "FirstOrDefaultAsync", "Last", "LastAsync", "LastOrDefault", "LastOrDefaultAsync", "Single", "SingleAsync", "SingleOrDefault", "SingleOrDefaultAsync", "ElementAt", "ElementAtOrDefault" })
            {
                map[name] = new CatalogueEntry("aggregate", "picking one element of an unbounded stream blocks until the stream ends", "Use a window and pick inside it ('w.OrderBy(e => e.Time).Take(1)'), or 'await query.ToListAsync()' on a finite source");
            }

            foreach (var name in new[] { "Wait", "ToTask", "ForEachAsync", "ForEach", "ToEnumerable", "GetAwaiter", "RunAsync", "Next", "Latest", "MostRecent" })
            {
                map[name] = new CatalogueEntry("terminal", "it blocks, or waits for the end of the stream, which a live stream never reaches", "Take results as they come with 'query.Subscribe(...)' or 'await foreach (var r in query.ToAsyncEnumerable(ct))', or collect a finite source with 'await query.ToListAsync(ct)'");
            }

            foreach (var name in new[] { "Throttle", "Sample", "Delay", "DelaySubscription", "Timeout", "Timestamp", "TimeInterval", "Interval", "Timer", "ObserveOn", "SubscribeOn", "Buffer", "Window" })
            {
                map[name] = new CatalogueEntry("processing-time", "it depends on the wall clock or a scheduler, so a replay would give a different answer than the live run", "Use event-time operators: TumblingWindow/HoppingWindow/SessionWindow for batching, ShiftTime to delay, and the event's own time instead of Timestamp");
            }

            foreach (var name in new[] { "Take", "Skip", "TakeLast", "SkipLast", "TakeWhile", "SkipWhile", "TakeUntil", "SkipUntil", "Zip", "CombineLatest", "WithLatestFrom", "StartWith", "Concat", "Repeat", "Retry", "Catch", "OnErrorResumeNext", "Switch", "Amb", "DistinctUntilChanged", "Pairwise" })
            {
                map[name] = new CatalogueEntry("count-based", "it is defined by arrival order or subscription, not by event time", "Express it in event time: a window with an aggregate, ClipLifetime for the latest value per key, Over(key, rows, ...) for an aggregate over the last rows of a key, or a temporal Join between streams");
            }

            foreach (var name in new[] { "Publish", "Replay", "RefCount", "Multicast", "Do", "Finally", "Materialize", "Dematerialize", "GroupJoin", "Cast", "OfType", "Synchronize" })
            {
                map[name] = new CatalogueEntry("control", "it controls subscriptions or side effects, which the engine manages itself (a query used twice is already computed once)", "Remove it from the query; run side effects in Subscribe, and filter types with Where(e => e is T) then Select(e => (T)e)");
            }

            return map;
        }
    }
}
