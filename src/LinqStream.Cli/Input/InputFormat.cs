namespace LinqStream.Cli.Input;

/// <summary>The file formats <c>linqstream run</c> reads.</summary>
internal enum InputFormat
{
    /// <summary>One JSON object per line.</summary>
    Jsonl,

    /// <summary>Comma-separated values with a header line.</summary>
    Csv,
}
