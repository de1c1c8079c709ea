namespace LinqStream.Temporal;

/// <summary>Which results a temporal join produces from the pairs of overlapping events with equal keys.</summary>
internal enum JoinKind
{
    /// <summary>One result per overlapping pair (<c>join ... on ... equals ...</c>).</summary>
    Inner,

    /// <summary>The inner results, plus one <c>(left, default)</c> result for each left event that overlapped no right event.</summary>
    LeftOuter,

    /// <summary>Each left event that overlapped no right event, unchanged (<c>WhereNotExists</c>).</summary>
    Anti,
}
