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
