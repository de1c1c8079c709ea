using System.Buffers;
using System.Text;
using System.Text.Json;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Recovery.Tests;

/// <summary>
/// A JSON-lines file of bids with every kind of damage mixed between the valid lines: records cut short, wrong types, lines longer
/// than the source's limit (and lines exactly at it), invalid UTF-8, blank lines, CRLF endings, JSON that is not an object, and no
/// newline at the end. It remembers which bids are valid and where each bad line starts, to check the source against.
/// </summary>
internal sealed class FuzzedFile
{
    private readonly ArrayBufferWriter<byte> _bytes = new();
    private readonly Random _random;
    private readonly int _maxLineLength;
    private long _line;

    private FuzzedFile(Random random, int maxLineLength)
    {
        _random = random;
        _maxLineLength = maxLineLength;
    }

    /// <summary>Gets the valid bids, in file order.</summary>
    public List<Bid> Valid { get; } = [];

    /// <summary>Gets the bad lines, in file order: the position the source must report (<c>line N (byte B)</c>), what was wrong, and the text.</summary>
    public List<(string Position, string Kind, string? Text)> Bad { get; } = [];

    /// <summary>Writes <paramref name="bids"/> (valid, in order) with damaged lines between them to <paramref name="path"/>.</summary>
    public static FuzzedFile Write(string path, IReadOnlyList<Bid> bids, int seed, int maxLineLength)
    {
        var file = new FuzzedFile(new Random(seed), maxLineLength);
        bool endDamaged = file._random.Next(2) == 0;
        for (int i = 0; i < bids.Count; i++)
        {
            if (file._random.Next(4) == 0)
            {
                file.WriteDamaged(bids[i]);
            }

            // The file ends without a newline: on the last valid line, or on a damaged line after it.
            bool last = i == bids.Count - 1;
            file.WriteValid(bids[i], crlf: file._random.Next(5) == 0 && (!last || endDamaged), newline: !last || endDamaged);
        }

        if (endDamaged)
        {
            file.WriteDamaged(bids[^1], newline: false);
        }

        File.WriteAllBytes(path, file._bytes.WrittenSpan.ToArray());
        return file;
    }

    private static string Json(Bid bid) => JsonSerializer.Serialize(bid, NexmarkFiles.Json);

    private void WriteValid(Bid bid, bool crlf, bool newline)
    {
        // Now and then a line exactly MaxLineLength bytes long (not counting its line ending): still read.
        if (_random.Next(40) == 0)
        {
            bid = Pad(bid, _maxLineLength);
        }

        Valid.Add(bid);
        WriteLine(Encoding.UTF8.GetBytes(Json(bid)), crlf ? "\r\n" : newline ? "\n" : "");
    }

    private void WriteDamaged(Bid bid, bool newline = true)
    {
        string json = Json(bid);
        string ending = !newline ? "" : _random.Next(3) == 0 ? "\r\n" : "\n";
        switch (_random.Next(9))
        {
            case 0:
                // Blank lines are skipped: neither a record nor a dead letter.
                WriteLine(Encoding.UTF8.GetBytes(_random.Next(3) switch { 0 => "", 1 => "   ", _ => " \t " }), ending);
                return;
            case 1:
                Reject(Encoding.UTF8.GetBytes(json[..(_random.Next(1, json.Length))]), ending, "truncated");
                return;
            case 2:
                Reject(Encoding.UTF8.GetBytes(json.Replace($"\"auction\":{bid.Auction}", $"\"auction\":\"a{bid.Auction}\"", StringComparison.Ordinal)), ending, "string for a number");
                return;
            case 3:
                Reject(Encoding.UTF8.GetBytes(json.Replace($"\"price\":{bid.Price}", $"\"price\":{bid.Price}.5", StringComparison.Ordinal)), ending, "fraction for a whole number");
                return;
            case 4:
                Reject(Encoding.UTF8.GetBytes(json.Replace("\"dateTime\":\"", "\"dateTime\":\"yesterday ", StringComparison.Ordinal)), ending, "not a date");
                return;
            case 5:
                // One byte over the limit, or far over it (several of the source's buffers).
                int length = _random.Next(2) == 0 ? _maxLineLength + 1 : _maxLineLength + _random.Next(2, 5 * _maxLineLength);
                Reject(Encoding.UTF8.GetBytes(Json(Pad(bid, length))), ending, "too long", text: null);
                return;
            case 6:
                {
                    // Bytes that are not UTF-8, inside a string value.
                    var bytes = Encoding.UTF8.GetBytes(json.Replace("\"channel\":\"", "\"channel\":\"\u0001BAD", StringComparison.Ordinal)).ToList();
                    int at = bytes.IndexOf(1);
                    bytes.RemoveRange(at, 4);
                    bytes.InsertRange(at, _random.Next(2) == 0 ? [0xFF, 0xFE] : [0xC3, 0x28]);
                    Reject([.. bytes], ending, "invalid UTF-8", text: null);
                    return;
                }

            case 7:
                Reject(Encoding.UTF8.GetBytes(_random.Next(3) switch { 0 => "null", 1 => "[1,2,3]", _ => "\"a string\"" }), ending, "not an object");
                return;
            default:
                Reject(Encoding.UTF8.GetBytes("{\"auction\":1,,}"), ending, "not JSON");
                return;
        }
    }

    /// <summary>The bid with its Extra field padded so that its JSON line is exactly <paramref name="length"/> bytes.</summary>
    private static Bid Pad(Bid bid, int length)
    {
        var plain = bid with { Extra = "" };
        int padding = length - Encoding.UTF8.GetByteCount(Json(plain));
        return plain with { Extra = new string('p', padding) };
    }

    private void Reject(byte[] line, string ending, string kind, string? text = "")
    {
        Bad.Add(($"line {_line + 1} (byte {_bytes.WrittenCount})", kind, text is null ? null : Encoding.UTF8.GetString(line)));
        WriteLine(line, ending);
    }

    private void WriteLine(byte[] line, string ending)
    {
        _bytes.Write(line);
        _bytes.Write(Encoding.ASCII.GetBytes(ending));
        _line++;
    }
}
