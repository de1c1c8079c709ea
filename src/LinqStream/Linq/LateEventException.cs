namespace LinqStream;

/// <summary>An event arrived out of order under <see cref="IngressPolicy.Throw"/> (or later than a reorder delay allows).</summary>
public sealed class LateEventException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="LateEventException"/> class.</summary>
    public LateEventException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="LateEventException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public LateEventException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="LateEventException"/> class with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public LateEventException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the name of the source.</summary>
    public string? SourceName { get; init; }

    /// <summary>Gets the zero-based position of the event in its source.</summary>
    public long Position { get; init; }

    /// <summary>Gets how far the event's time was behind the watermark.</summary>
    public TimeSpan Lateness { get; init; }
}
