namespace LinqStream.Runtime.State;

/// <summary>A keyed operator's count of groups (window keys, sessions) on the heap and spilled to a store, read for progress reports.</summary>
/// <remarks>Read from the reporting thread without locks while tasks run: a report is a recent value, not an exact one.</remarks>
internal interface IStateMeter
{
    long HeapGroups { get; }

    long SpilledGroups { get; }
}
