namespace LinqStream;

/// <summary>What a source task that has sent a checkpoint barrier waits for before its next step (<see cref="QueryOptions.SourcesWaitAtBarrier"/>).</summary>
internal enum SourceBarrierWait
{
    /// <summary>Nothing: it reads on at once (its held channels fill, then it waits for space), as before issue #16's ninth part.</summary>
    ReadOn,

    /// <summary>Until every aggregate task is aligned at the barrier (or has ended).</summary>
    UntilTasksAligned,

    /// <summary>Until every aggregate task is aligned and the order-restoring merge has taken every task's barrier (with a sink per
    /// task, where there is no merge: until every task is aligned).</summary>
    UntilThrough,
}
