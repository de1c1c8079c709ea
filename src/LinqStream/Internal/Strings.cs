using System.Globalization;

namespace LinqStream.Internal;

/// <summary>Every message users read, in one place so the tone can be reviewed together.</summary>
internal static class Strings
{
    private static string F(string format, params object?[] args) => string.Format(CultureInfo.InvariantCulture, format, args);

    public static string OperatorFailed(string op, string expression, Exception inner) =>
        F("The expression '{0}' in '{1}' threw {2}: {3} The query stopped; handle the case inside the expression, or filter the events that cause it before '{1}'.",
          expression, op, inner.GetType().Name, inner.Message);

    public static string OperatorFailedOnEvent(string op, string expression, Exception inner, long start, object? payload, string site) =>
        F("The expression '{0}' in '{1}'{6} threw {2}: {3} for the event at {4} with payload {5}. The query stopped; handle the case inside the expression, " +
          "filter the events that cause it before '{1}', or run with QueryOptions.OnError = ErrorPolicy.SkipAndDeadLetter to skip such events into QueryOptions.DeadLetters.",
          expression, op, inner.GetType().Name, inner.Message, Temporal.Ticks.Format(start), Describe(payload), site);

    public static string ArgMaxRewriteMismatch(string leftKey, string rightKey, string windowStart) =>
        F("The plan rewrite 'WindowMaxJoinToArgMax' met a pair its join would not match ('{0}' differs from '{1}' in the window starting {2}): " +
          "the result type does not keep the value it was constructed with. The query stopped; please report the query, and run it with " +
          "the aggregate and the join written apart (for example with a filter the rewrite does not recognise) until it is fixed.",
          leftKey, rightKey, windowStart);

    public static string CheckpointPartFailed(long id, string part, Exception inner, long newest) =>
        F("Checkpoint {0} failed: the part of '{1}' that finishes off the query's thread threw {2}: {3} The checkpoint was not saved and its sinks " +
          "were not committed; the newest checkpoint is {4}, which a restart restores. The job stopped, as for a checkpoint the store cannot save.",
          id, part, inner.GetType().Name, inner.Message, newest == 0 ? "none (a restart starts from the beginning)" : newest.ToString(CultureInfo.InvariantCulture));

    public static string JobOutOfMemory(string backend, long heapGroups, long spilledGroups, long limitBytes) =>
        F("The job ran out of managed memory (the GC's limit is {0:0} MB) with {1:N0} groups of keyed state (open windows, sessions, a keyed fold's groups, a join's waiting or live events) on the heap " +
          "and {2:N0} spilled, on the '{3}' state backend. The heap backend keeps all keyed state in the managed heap: run the job with " +
          "JobOptions.State = StateBackend.RocksDb(directory) (linqstream run --state rocksdb:DIR), which keeps the hot keys on the heap and " +
          "the rest on disk (keyed session, tumbling and hopping window aggregates, the window join's waiting events and the interval join's live events; docs/state.md says what spills), or give the process more memory (DOTNET_GCHeapHardLimit, " +
          "the container's limit). The job stopped; a restart goes on from its last checkpoint.",
          limitBytes / 1e6, heapGroups, spilledGroups, backend);

    public static string WindowJoinRewriteMismatch(string side, string size, string start, string end) =>
        F("The plan rewrite 'TumblingJoinToWindowJoin' met a {0} event that does not live for one tumbling window of {1} (it lives from {2} to {3}): " +
          "the rewrite joins such inputs a window at a time, which would not give the join's answer. The query stopped; please report the query, " +
          "and run it with QueryOptions.RewriteSubPlans off (internal) or with the windows written differently until it is fixed.",
          side, size, start, end);

    public static string Describe(object? payload)
    {
        string text = payload?.ToString() ?? "null";
        return text.Length <= 512 ? text : string.Concat(text.AsSpan(0, 512), "…");
    }

    public static string LateEventThrow(string source, long position, TimeSpan lateness, long eventTicks, long watermark) =>
        F("Event {0} of source '{1}' is {2} late: its time {3} is before the watermark {4}. The ingress policy is 'Throw'. " +
          "Choose IngressPolicy.Reorder(maxDelay) with a maxDelay of at least {2} to sort such events, IngressPolicy.Drop to drop them, or IngressPolicy.Adjust to move them to the watermark.",
          position, source, lateness, Temporal.Ticks.Format(eventTicks), Temporal.Ticks.Format(watermark));

    public static string SourceFailed(string source, long position, Exception inner) =>
        F("Source '{0}' failed after {1} events: {2}: {3}", source, position, inner.GetType().Name, inner.Message);

    public static string EventTimeFailed(string source, long position, Exception inner) =>
        F("The event-time selector of source '{0}' threw {1} on event {2}: {3} Make the selector total (no nulls, no parsing that can fail), or clean the input first.",
          source, inner.GetType().Name, position, inner.Message);

    public static string NotFinite(string method) =>
        F("'{0}' waits for the stream to end, but a live source never ends on its own. Pass a CancellationToken, or use Subscribe or ToAsyncEnumerable.", method);

    public static string WindowBuffered(string selector, string use) =>
        F("The window expression '{0}' has no incremental form ({1}), so every event of each window is kept until the window closes. " +
          "Use aggregates that fold one event at a time (Count, Sum, Min, Max, Average, Any, All, Select(f).Distinct().Count(), OrderByDescending(f).Take(k), or an IAggregate), or accept the buffering outside strict mode. See docs/rules/LSQ0007.md.",
          selector, use);

    public static string TranslationFailed(string query, IReadOnlyList<(string Operator, string Reason)> failures) =>
        F("The query '{0}' cannot run as a stream. {1}", query, string.Join(" ", failures.Select(f => f.Reason)));

    public static string TerminalOperator(string op, string reason, string fix) =>
        F("'{0}' cannot run on a stream: {1}. {2}.", op, reason, fix);

    public static string SessionNeedsAggregate() =>
        "A session window has no lifetime until it closes, so 'SessionWindow' must be followed by an aggregate: 'stream.SessionWindow(gap).GroupBy(key).Select(g => ...)' or '.Select(w => ...)'.";

    public static string HavingNeedsSelect(string having) =>
        F("The filter '{0}' on window groups must be followed by 'Select(g => ...)', which says what each group gives.", having);

    public static string JoinKeyTypes(string left, string right) =>
        F("The join keys '{0}' and '{1}' have different types; convert one so both have the same type.", left, right);

    public static string ParallelNoKeyedAggregate(int parallelism) =>
        F("Runs on one task although Parallelism is {0}: the query has no keyed window aggregate ('GroupBy' on a window) to split by key. Group the windowed stream by a key to use more tasks.", parallelism);

    public static string ParallelSharedInput(int parallelism, string aggregate) =>
        F("Runs on one task although Parallelism is {0}: the input of '{1}' is also used by another part of the query, so it cannot move to its own task.", parallelism, aggregate);

    public static string SumOverflowed(string type) =>
        F("Arithmetic operation resulted in an overflow: the running sum left the range of '{0}', as LINQ's checked addition in event order would. Sum a wider type (for example 'g.Sum(e => (long)e.Value)').", type);

    public static string AggregateOfEmptyGroup() =>
        "Sequence contains no elements: the group (after its filter) is empty, and this overload of Average, Min or Max has no value for an empty group, as in LINQ. " +
        "Use the nullable overload (for example 'g.Where(p).Average(e => (double?)e.Value)') to get null instead.";

    public static string WindowResultFailed(string op, long windowStart, long windowEnd, object? key, Exception inner) =>
        F("The result of '{0}' for window [{1}, {2}) and key {3} threw {4}: {5}", op, Temporal.Ticks.Format(windowStart), Temporal.Ticks.Format(windowEnd),
          Describe(key), inner.GetType().Name, inner.Message);

    public static string WindowResultFailedStop(string message) =>
        message + " The query stopped; run with QueryOptions.OnError = ErrorPolicy.SkipAndDeadLetter to skip such windows into QueryOptions.DeadLetters.";
}
