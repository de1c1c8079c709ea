namespace LinqStream;

/// <summary>Code in a query (a user's lambda, a user aggregate, a source) failed while the query ran.</summary>
/// <remarks>It reaches the observer's <c>OnError</c>; the query stops. <see cref="Exception.InnerException"/> is the original failure.</remarks>
public sealed class QueryExecutionException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="QueryExecutionException"/> class.</summary>
    public QueryExecutionException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="QueryExecutionException"/> class with a message.</summary>
    /// <param name="message">What failed, in which operator, and what to do.</param>
    public QueryExecutionException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="QueryExecutionException"/> class with a message and a cause.</summary>
    /// <param name="message">What failed, in which operator, and what to do.</param>
    /// <param name="innerException">The exception the user's code threw.</param>
    public QueryExecutionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the name of the operator whose code failed (for example 'Where').</summary>
    public string? Operator { get; init; }

    /// <summary>Gets the user's expression that failed, as text.</summary>
    public string? Expression { get; init; }
}
