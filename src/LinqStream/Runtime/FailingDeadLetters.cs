namespace LinqStream.Runtime;

/// <summary>The dead-letter sink of a query that has none: the first rejected record stops the query, with the record in the message.</summary>
internal sealed class FailingDeadLetters : IDeadLetterSink
{
    public static readonly FailingDeadLetters Instance = new();

    public void Write(DeadLetter letter) =>
        throw new InvalidDataException(
            $"{letter.Source}, {letter.Position}: {letter.Reason}. Record: {Internal.Strings.Describe(letter.Record)}. " +
            "Nothing was skipped: set QueryOptions.DeadLetters (or JobOptions.DeadLetters) to keep such records aside and go on.");
}
