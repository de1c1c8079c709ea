namespace LinqStream.Diagnostics;

/// <summary>A plan node that reads a source: metrics match it to the source's reader by name (events read, backpressure).</summary>
internal interface ISourceNode
{
    string SourceName { get; }
}
