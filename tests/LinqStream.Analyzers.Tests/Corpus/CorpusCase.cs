namespace LinqStream.Analyzers.Tests.Corpus;

/// <summary>
/// One realistic piece of user code: <see cref="Body"/> is the body of <c>static async Task&lt;object?&gt; Run()</c>, which returns the query it
/// builds (or null when it consumes it itself), and <see cref="Members"/> are helpers declared next to it.
/// </summary>
/// <param name="Name">A unique name; the theme is its prefix ("helpers.", "terminal.", ...).</param>
/// <param name="Expected">The LSQ rule IDs the analyzers report, comma-separated, or empty when none.</param>
/// <param name="Body">Statements with access to <c>bids</c>, <c>auctions</c> (replayed lists), <c>live</c> (a live source), <c>rx</c> (a plain observable), <c>bidList</c>, <c>auctionList</c>.</param>
/// <param name="Members">Static members (helpers, extension methods, fields, nested types) of the case's class.</param>
public sealed record CorpusCase(string Name, string Expected, string Body, string Members = "")
{
    /// <summary>Gets the theme: the part of the name before the first dot.</summary>
    public string Theme => Name[..Name.IndexOf('.', StringComparison.Ordinal)];

    /// <summary>Gets the expected rule IDs, sorted.</summary>
    public IReadOnlyList<string> ExpectedIds => [.. Expected.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>Gets the C# identifier of the case's class.</summary>
    public string ClassName => "Case_" + new string([.. Name.Select(c => char.IsLetterOrDigit(c) ? c : '_')]);

    public override string ToString() => Name;
}
