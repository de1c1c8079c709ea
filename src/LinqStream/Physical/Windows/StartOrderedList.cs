namespace LinqStream.Physical.Windows;

/// <summary>Something that starts at a time, kept in a list sorted by start (a spilled operator's open windows).</summary>
internal interface IStartOrdered
{
    long Start { get; }
}

/// <summary>Finds in a list sorted by start, searching from the end (new windows are mostly the latest).</summary>
internal static class StartOrderedList
{
    /// <summary>The index of the item that starts at <paramref name="start"/>, or the bitwise complement of the index where it would go.</summary>
    public static int IndexOf<T>(List<T> items, long start)
        where T : class, IStartOrdered
    {
        int index = items.Count - 1;
        while (index >= 0 && items[index].Start > start)
        {
            index--;
        }

        return index >= 0 && items[index].Start == start ? index : ~(index + 1);
    }
}

/// <summary>A set of key groups as bits (which key groups of an open window have state in a store).</summary>
internal static class KeyGroupBits
{
    /// <summary>The first key group at or after <paramref name="from"/> whose bit is set, or -1 (also when there are no bits).</summary>
    public static int Next(ulong[]? bits, int from)
    {
        if (bits is null)
        {
            return -1;
        }

        for (int word = from >> 6; word < bits.Length; word++)
        {
            ulong rest = word == from >> 6 ? bits[word] & (ulong.MaxValue << from) : bits[word];
            if (rest != 0)
            {
                return (word << 6) + System.Numerics.BitOperations.TrailingZeroCount(rest);
            }
        }

        return -1;
    }
}
