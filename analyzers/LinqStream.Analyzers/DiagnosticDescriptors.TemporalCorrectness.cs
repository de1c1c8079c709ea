using Microsoft.CodeAnalysis;

namespace LinqStream.Analyzers;

internal static partial class DiagnosticDescriptors
{
    /// <summary>LSQ0002: wall-clock or random values inside a query.</summary>
    public static readonly DiagnosticDescriptor ProcessingTime = Create(
        "LSQ0002",
        TemporalCorrectnessCategory,
        DiagnosticSeverity.Warning,
        "Do not read the clock or random values inside a query",
        "'{0}' in a query reads {1}, so replaying the same events gives a different answer; use the event's own time, or compute the value before the query",
        "A query lambda runs when an event is processed, not when it happened. Reading the wall clock, a stopwatch, Random or Guid.NewGuid " +
        "makes the answer depend on processing speed and on when the query runs, so a replay of history disagrees with the live run.");

    /// <summary>LSQ0006: a captured local assigned again after the query is built.</summary>
    public static readonly DiagnosticDescriptor CapturedLocalAssignedLater = Create(
        "LSQ0006",
        TemporalCorrectnessCategory,
        DiagnosticSeverity.Warning,
        "Do not change a local that a query captures after building the query",
        "The query reads '{0}' when it runs, not when it is built, and '{0}' is assigned again on line {1}; copy the value into a local that does not change, or build the query after the assignment",
        "A query is an expression tree that holds the captured variable, not its value: the query reads it each time a lambda runs, " +
        "after Subscribe. Assigning a captured local after building the query changes what the query does, which is rarely what the code reads as.");
}
