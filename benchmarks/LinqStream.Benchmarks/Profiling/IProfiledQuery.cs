using LinqStream.Benchmarks.Scenarios.Nexmark;

namespace LinqStream.Benchmarks.Profiling;

/// <summary>A NEXMark query whose LinqStream version <c>--profile</c> can run on its own.</summary>
public interface IProfiledQuery
{
    /// <summary>Gets the query's name in messages, for example "q5 hot items".</summary>
    string Name { get; }

    /// <summary>Runs the LinqStream version once over <paramref name="input"/>; returns the number of results.</summary>
    long RunLinqStream(NexmarkInput input);

    /// <summary>Runs the hand-written loop once over <paramref name="input"/> (<c>--hand</c>: the reference in the same sitting); returns the number of results.</summary>
    long RunHandWritten(NexmarkInput input);

    /// <summary>Gets the LinqStream version's plans over <paramref name="input"/> (<c>Explain()</c>), for <c>--explain</c>.</summary>
    string ExplainLinqStream(NexmarkInput input);
}
