using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace LinqStream.Io.Json;

/// <summary>
/// The strings one record member read lately, so a value that repeats (a channel, a country, a URL among a few thousand) is not
/// validated, transcoded and allocated again: a direct-mapped table of the last ASCII string per hash slot, checked byte for byte.
/// </summary>
/// <remarks>
/// <para>Only short ASCII values without escapes are kept; anything else, and every miss, is read with
/// <see cref="Utf8JsonReader.GetString"/> (the same validation and the same errors). A hit returns a string equal to what
/// <see cref="Utf8JsonReader.GetString"/> would give (the same characters: the bytes are compared with the kept string's), only not
/// a new instance. A member whose values rarely repeat (ids, timestamps written as text) stops looking values up for a while, so
/// it pays for the hash only now and then.</para>
/// <para>Shared by every thread that decodes the type: a slot is one reference, written and read whole; a racing read sees the
/// old or the new string, and uses it only after comparing it with the bytes. Counters are approximate under races.</para>
/// </remarks>
internal sealed class Utf8StringCache
{
    /// <summary>The longest value kept, in bytes.</summary>
    public const int MaxLength = 96;

    /// <summary>Lookups per judgement of the hit rate.</summary>
    internal const int Window = 1024;

    /// <summary>Fewer hits than this in a window: the member's values do not repeat enough.</summary>
    internal const int MinHits = Window / 16;

    /// <summary>Values read without a lookup after a poor window, before the cache tries again.</summary>
    internal const int Pause = 64 * 1024;

    private readonly string?[] _slots;
    private readonly int _mask;
    private int _lookups;
    private int _hits;
    private int _paused;

    /// <summary>Initializes a new instance of the <see cref="Utf8StringCache"/> class.</summary>
    /// <param name="slots">The table's size, a power of two.</param>
    public Utf8StringCache(int slots = 512)
    {
        if (slots <= 0 || (slots & (slots - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(slots), slots, "The table's size must be a power of two.");
        }

        _slots = new string?[slots];
        _mask = slots - 1;
    }

    /// <summary>Gets a value indicating whether the cache is pausing after a window with few hits (tests).</summary>
    internal bool IsPaused => Volatile.Read(ref _paused) > 0;

    /// <summary>Reads the string the reader is on (a <see cref="JsonTokenType.String"/>), from the table when it was read lately.</summary>
    /// <param name="reader">The reader, on a string value.</param>
    /// <returns>The string.</returns>
    public string Read(ref Utf8JsonReader reader)
    {
        if (_paused > 0)
        {
            _paused--;
            return reader.GetString()!;
        }

        // Not a string (GetString throws, as it would without the table), escaped, split or long: read as it is.
        if (reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped || reader.HasValueSequence || reader.ValueSpan.Length > MaxLength)
        {
            return reader.GetString()!;
        }

        var bytes = reader.ValueSpan;
        int slot = (int)Hash(bytes) & _mask;
        var kept = _slots[slot];
        if (kept is not null && kept.Length == bytes.Length && Ascii.Equals(bytes, kept))
        {
            Count(hit: true);
            return kept;
        }

        string text = reader.GetString()!;
        if (text.Length == bytes.Length)
        {
            // As many characters as bytes: ASCII (valid UTF-8 beyond ASCII takes more bytes than characters).
            _slots[slot] = text;
        }

        Count(hit: false);
        return text;
    }

    /// <summary>
    /// Finds the string of the UTF-8 <paramref name="bytes"/> if it was read lately (a binary reader's string: a cross-silo frame's
    /// column, issue #17); on a miss the caller decodes the bytes itself and calls <see cref="Keep"/>.
    /// </summary>
    /// <param name="bytes">The value's UTF-8 bytes.</param>
    /// <param name="value">The kept string, equal to what decoding the bytes gives.</param>
    /// <returns>Whether the string was found.</returns>
    public bool TryGet(ReadOnlySpan<byte> bytes, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value)
    {
        value = null;
        if (bytes.Length == 0)
        {
            value = string.Empty;
            return true;
        }

        if (_paused > 0)
        {
            _paused--;
            return false;
        }

        if (bytes.Length > MaxLength)
        {
            return false;
        }

        var kept = _slots[(int)Hash(bytes) & _mask];
        bool hit = kept is not null && kept.Length == bytes.Length && Ascii.Equals(bytes, kept);
        Count(hit);
        value = hit ? kept : null;
        return hit;
    }

    /// <summary>Keeps <paramref name="value"/>, decoded from <paramref name="bytes"/> after a miss of <see cref="TryGet"/>, when it is short ASCII.</summary>
    /// <param name="bytes">The value's UTF-8 bytes.</param>
    /// <param name="value">The decoded string.</param>
    public void Keep(ReadOnlySpan<byte> bytes, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (_paused == 0 && bytes.Length is > 0 and <= MaxLength && value.Length == bytes.Length)
        {
            // As many characters as bytes: ASCII (valid UTF-8 beyond ASCII takes more bytes than characters).
            _slots[(int)Hash(bytes) & _mask] = value;
        }
    }

    /// <summary>Judges the hit rate once per <see cref="Window"/> lookups, and pauses when it is poor.</summary>
    private void Count(bool hit)
    {
        if (hit)
        {
            _hits++;
        }

        if (++_lookups < Window)
        {
            return;
        }

        if (_hits < MinHits)
        {
            _paused = Pause;
        }

        _lookups = 0;
        _hits = 0;
    }

    /// <summary>A fast multiplicative hash of all the bytes (the table is per member and in memory only; collisions cost a miss).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Hash(ReadOnlySpan<byte> bytes)
    {
        const ulong Multiplier = 0x9E3779B97F4A7C15;
        ulong hash = (ulong)bytes.Length * Multiplier;
        int i = 0;
        for (; i + 8 <= bytes.Length; i += 8)
        {
            hash = (hash ^ BinaryPrimitives.ReadUInt64LittleEndian(bytes[i..])) * Multiplier;
            hash ^= hash >> 29;
        }

        if (i < bytes.Length)
        {
            ulong tail = 0;
            for (int j = bytes.Length - 1; j >= i; j--)
            {
                tail = (tail << 8) | bytes[j];
            }

            hash = (hash ^ tail) * Multiplier;
            hash ^= hash >> 29;
        }

        return hash ^ (hash >> 32);
    }
}
