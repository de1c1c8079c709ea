namespace LinqStream.Connectors;

/// <summary>
/// Reads the unsigned decimal numbers of the protocols the connectors' own readers parse (NATS' message sizes and JetStream
/// sequences, Redis' entry ids): ASCII digits only — no sign, no spaces, no other format — with overflow checked. Shared by the
/// Redis and NATS connectors as a linked source file.
/// </summary>
internal static class AsciiNumber
{
    /// <summary>Reads the digits at the start of <paramref name="text"/>, up to the first byte that is not one.</summary>
    /// <param name="text">The bytes.</param>
    /// <param name="value">The number read; 0 when none.</param>
    /// <returns>How many digits were read: 0 when <paramref name="text"/> does not start with a digit, -1 when the number does not fit a <see cref="ulong"/>.</returns>
    public static int ReadDigits(ReadOnlySpan<byte> text, out ulong value)
    {
        value = 0;
        int i = 0;
        uint digit;
        // 19 digits always fit; from the 20th on, every step is checked.
        int unchecked19 = Math.Min(text.Length, 19);
        while (i < unchecked19 && (digit = (uint)(text[i] - '0')) <= 9)
        {
            value = (value * 10) + digit;
            i++;
        }

        while (i < text.Length && (digit = (uint)(text[i] - '0')) <= 9)
        {
            if (value > (ulong.MaxValue - digit) / 10)
            {
                value = 0;
                return -1;
            }

            value = (value * 10) + digit;
            i++;
        }

        return i;
    }

    /// <summary>Reads <paramref name="text"/> as a whole: true when it is one or more digits and the number fits a <see cref="ulong"/>.</summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out ulong value)
    {
        if (ReadDigits(text, out value) is var used && used > 0 && used == text.Length)
        {
            return true;
        }

        value = 0;
        return false;
    }

    /// <summary>Reads <paramref name="text"/> as a whole into an <see cref="int"/>: true when it is one or more digits and the number is at most <see cref="int.MaxValue"/>.</summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out int value)
    {
        if (TryParse(text, out ulong wide) && wide <= int.MaxValue)
        {
            value = (int)wide;
            return true;
        }

        value = 0;
        return false;
    }
}
