namespace LinqStream;

/// <summary>What a replayable source does when the entries after its saved position are no longer on the server.</summary>
/// <remarks>
/// A gap appears when the input changed while the job was down or idle: the stream was trimmed (Redis <c>XTRIM</c>, a NATS
/// purge or limit) past the position, deleted, or deleted and made again. Going on from the first entry still there would
/// give results computed over part of the input, with nothing to show for it.
/// </remarks>
public enum InputGapPolicy
{
    /// <summary>The source fails with an <see cref="InputGapException"/> that names the position and what the server holds now.</summary>
    Fail,

    /// <summary>The source goes on from the first entry the server still has, raises the gap and counts the entries skipped.</summary>
    Skip,
}

/// <summary>A gap between a source's position and the first entry its server still holds.</summary>
/// <param name="Source">The source's name.</param>
/// <param name="After">The last position the query read, in the connector's words (an entry id, a sequence).</param>
/// <param name="ResumesAt">The first position the server still holds after it, or a description when there is none.</param>
/// <param name="Skipped">How many entries were lost between the two, or <see langword="null"/> when the server cannot tell.</param>
/// <param name="Reason">What happened to the input, in a sentence.</param>
public sealed record InputGap(string Source, string After, string ResumesAt, long? Skipped, string Reason)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"{Source}: {Reason} The query read up to {After}; the first entry still there is {ResumesAt}" +
        (Skipped is { } n ? $", so {n} entries are gone." : "; how many entries are gone is not known.");
}

/// <summary>Thrown by a source whose saved position is no longer on its server (see <see cref="InputGapPolicy"/>).</summary>
public sealed class InputGapException : InvalidOperationException
{
    /// <summary>Initializes a new instance of the <see cref="InputGapException"/> class.</summary>
    /// <param name="gap">The gap.</param>
    public InputGapException(InputGap gap)
        : base(gap?.ToString() + " Results over this input would silently miss those entries: restore from an older copy of the input, " +
               "or set OnGap = InputGapPolicy.Skip on the source's options to go on from the first entry still there.")
    {
        ArgumentNullException.ThrowIfNull(gap);
        Gap = gap;
    }

    /// <summary>Gets the gap.</summary>
    public InputGap Gap { get; }
}
