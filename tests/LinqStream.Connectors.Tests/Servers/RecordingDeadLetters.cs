using System.Collections.Concurrent;

namespace LinqStream.Connectors.Tests.Servers;

/// <summary>Dead letters kept in memory, for assertions.</summary>
public sealed class RecordingDeadLetters : IDeadLetterSink
{
    private readonly ConcurrentQueue<DeadLetter> _letters = new();

    public IReadOnlyList<DeadLetter> Letters => [.. _letters];

    public void Write(DeadLetter letter) => _letters.Enqueue(letter);
}
