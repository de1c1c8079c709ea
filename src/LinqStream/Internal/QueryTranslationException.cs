namespace LinqStream;

/// <summary>A query cannot run as a stream. Thrown at <c>Subscribe</c> (or <c>Explain</c>), never later.</summary>
/// <remarks>The message quotes the user's expression, names the operator, says why, and says what to write instead.</remarks>
public sealed class QueryTranslationException : InvalidOperationException
{
    /// <summary>Initializes a new instance of the <see cref="QueryTranslationException"/> class.</summary>
    public QueryTranslationException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="QueryTranslationException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public QueryTranslationException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="QueryTranslationException"/> class with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public QueryTranslationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the name of the operator that could not be translated (for example 'OrderBy').</summary>
    public string? Operator { get; init; }

    /// <summary>Gets every reason collected while translating, one sentence each.</summary>
    public IReadOnlyList<string> Reasons { get; init; } = [];
}
