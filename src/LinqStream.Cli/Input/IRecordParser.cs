using System.Diagnostics.CodeAnalysis;

namespace LinqStream.Cli.Input;

/// <summary>Turns one line of the input file into a record and its event time, or says why it cannot.</summary>
internal interface IRecordParser<T>
{
    bool TryParse(string text, long line, [MaybeNullWhen(false)] out T record, out DateTimeOffset time, out string reason);
}
