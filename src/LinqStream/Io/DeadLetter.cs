namespace LinqStream;

/// <summary>A record the query could not use, kept with where it came from and why.</summary>
/// <param name="Source">The source's name (a file path, a stream name) or the operator that failed.</param>
/// <param name="Position">Where in the source: <c>line 12 (byte 3310)</c>, an entry id, a sequence number, or the event's time.</param>
/// <param name="Reason">What was wrong with it, in words.</param>
/// <param name="Record">The raw record as text (invalid UTF-8 is shown as U+FFFD), cut to 64 KiB.</param>
public sealed record DeadLetter(string Source, string Position, string Reason, string Record)
{
    /// <summary>The longest record text kept in a dead letter.</summary>
    public const int MaxRecordLength = 64 * 1024;

    /// <summary>Makes a dead letter, cutting the record to <see cref="MaxRecordLength"/> characters.</summary>
    /// <param name="source">The source's name.</param>
    /// <param name="position">Where in the source.</param>
    /// <param name="reason">Why it was rejected.</param>
    /// <param name="record">The raw record.</param>
    /// <returns>The dead letter.</returns>
    public static DeadLetter Create(string source, string position, string reason, string record) =>
        new(source, position, reason, record.Length <= MaxRecordLength ? record : string.Concat(record.AsSpan(0, MaxRecordLength), "…"));
}

/// <summary>Where rejected records go. Implementations must be thread-safe: sources call them from their reader tasks.</summary>
public interface IDeadLetterSink
{
    /// <summary>Keeps a rejected record.</summary>
    /// <param name="letter">The record, its origin and the reason.</param>
    void Write(DeadLetter letter);
}
