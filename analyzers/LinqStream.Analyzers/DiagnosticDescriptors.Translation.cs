using Microsoft.CodeAnalysis;

namespace LinqStream.Analyzers;

internal static partial class DiagnosticDescriptors
{
    /// <summary>LSQ0001: an aggregate, sort or collector over a stream with no window.</summary>
    public static readonly DiagnosticDescriptor UnwindowedAggregate = Create(
        "LSQ0001",
        TranslationCategory,
        DiagnosticSeverity.Error,
        "Aggregate a stream inside a window",
        "'{0}' cannot run on a stream: {1}. {2}.",
        "An aggregate, sort or collector over an unbounded stream never produces a final answer and keeps its state forever. " +
        "Subscribe rejects it; window the stream and aggregate inside the window.");

    /// <summary>LSQ0004: a constant window argument that the window operator rejects.</summary>
    public static readonly DiagnosticDescriptor InvalidWindowArgument = Create(
        "LSQ0004",
        TranslationCategory,
        DiagnosticSeverity.Error,
        "Window sizes, hops and gaps must be positive, and a hop at most the size",
        "The {0} '{1}' of '{2}' {3}",
        "A window needs a positive size, hop and gap, and a hopping window's hop must not be larger than its size. " +
        "The operator throws ArgumentOutOfRangeException when the query is built.");

    /// <summary>LSQ0008: an Rx operator defined by arrival order, wall-clock time or subscriptions.</summary>
    public static readonly DiagnosticDescriptor UntranslatableOperator = Create(
        "LSQ0008",
        TranslationCategory,
        DiagnosticSeverity.Error,
        "Use event-time operators instead of processing-time, count-based or control Rx operators",
        "'{0}' cannot run on a stream: {1}. {2}.",
        "Rx operators such as Throttle, Take, Zip or Publish are defined by the wall clock, arrival order or subscriptions, " +
        "so they have no event-time meaning. Subscribe rejects them; express the same intent with windows, lifetimes and joins.");

    /// <summary>LSQ0009: a query whose shape the engine refuses (an index, a second from, WithLifetime after a filter, an unaggregated session...).</summary>
    public static readonly DiagnosticDescriptor RefusedShape = Create(
        "LSQ0009",
        TranslationCategory,
        DiagnosticSeverity.Error,
        "Write the query in a shape the engine can run",
        "'{0}' cannot run on a stream: {1}. {2}.",
        "Some queries are made of operators that translate, put together in a way the engine cannot run: a Select or Where with an index, " +
        "a second 'from' over a stream, WithLifetime after another operator, a session window or a group filter with no aggregate after it, " +
        "or a Merge with a plain observable. Subscribe rejects them with the same reason.");
}
