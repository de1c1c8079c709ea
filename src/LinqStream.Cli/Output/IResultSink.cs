namespace LinqStream.Cli.Output;

/// <summary>Where <c>linqstream run</c> sends the query's results.</summary>
internal interface IResultSink : IDisposable
{
    void Write<T>(T result);

    /// <summary>Called once after the last result (prints the table, flushes the file).</summary>
    void Complete(long results);
}
