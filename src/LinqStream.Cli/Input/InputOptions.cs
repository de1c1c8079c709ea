namespace LinqStream.Cli.Input;

/// <summary>How <c>linqstream run</c> reads its input file.</summary>
/// <param name="Path">The file.</param>
/// <param name="Format">JSON lines or CSV.</param>
/// <param name="TimeField">The field holding each record's event time (matched case-insensitively).</param>
/// <param name="MaxDelay">How much earlier than the latest event time a record may be and still be sorted in; zero: the file must be in time order.</param>
/// <param name="Strict">Stop at the first malformed line.</param>
internal sealed record InputOptions(string Path, InputFormat Format, string TimeField, TimeSpan MaxDelay, bool Strict)
{
    /// <summary>The default of <see cref="MaxLineLength"/>: 16 MiB, as the library's file sources.</summary>
    public const int DefaultMaxLineLength = 16 << 20;

    /// <summary>Gets the longest line read, in bytes (<c>--max-line-length</c>); a longer line is malformed and is not kept in memory.</summary>
    public int MaxLineLength { get; init; } = DefaultMaxLineLength;

    /// <summary>Gets the file name as printed in reports (as given on the command line).</summary>
    public string DisplayName => Path;
}
