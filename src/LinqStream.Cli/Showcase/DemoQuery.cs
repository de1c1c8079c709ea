using Spectre.Console;

namespace LinqStream.Cli.Showcase;

/// <summary>One showcase query of <c>linqstream demo</c>: what it shows, how to run it, and how to display its results.</summary>
internal abstract class DemoQuery
{
    /// <summary>Gets the short name printed in the heading and the throughput line (for example "hot items").</summary>
    public abstract string Name { get; }

    /// <summary>Gets the NEXMark query it follows.</summary>
    public abstract string Shape { get; }

    /// <summary>Describes the query, with the window sizes chosen for <paramref name="data"/>.</summary>
    public abstract string Describe(DemoData data);

    /// <summary>Gets the number of events the query reads from <paramref name="data"/>.</summary>
    public abstract long InputEvents(DemoData data);

    /// <summary>Runs the query to the end (synchronously) and keeps what the table needs.</summary>
    /// <param name="data">The data set.</param>
    /// <param name="statistics">The ingress counters every source of the query reports to (the progress bar reads them).</param>
    public abstract DemoResult Run(DemoData data, IngressStatistics statistics);
}

/// <summary>What a showcase query produced: the number of results and the table of the first few.</summary>
internal sealed record DemoResult(long Results, Table Table, string? Note = null);
