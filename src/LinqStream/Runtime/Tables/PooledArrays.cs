using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace LinqStream.Runtime.Tables;

/// <summary>
/// The arrays of an operator's growing tables (the join's live events, expiry queue and key table, the fold's groups), taken from
/// <see cref="ArrayPool{T}.Shared"/> and given back when a table grows, compacts or is released at the end of its run, so that the
/// next run of a query in the process grows into the arrays the last one left instead of allocating them again on the large-object
/// heap (issue #19: q4/q9 allocated ~84 MB a run doing so, and a gen-2 collection came every run or two).
/// </summary>
/// <remarks>
/// <para>
/// What the tables rely on: a rented array is <b>not zeroed</b> (each table writes what it reads, or clears what it assumes empty);
/// its length is the request rounded up to a power of two of at least 16 (the pool's buckets), so the tables keep using
/// <c>Length</c> as their capacity and columns rented for the same length are equally long; an array with references is cleared
/// when it goes back. An array is given back once,
/// by the table that holds it, after the table stopped holding it (the field is replaced first). A table that is dropped without
/// being released (a stopped query) leaves its arrays to the collector, as before.
/// </para>
/// <para>
/// <see cref="OwnedArrays.Store{T}(T[], int, T)"/> skips the covariant store check, which is safe only on an array that is exactly <c>T[]</c>:
/// another library could have given <c>ArrayPool&lt;Base&gt;.Shared</c> a <c>Derived[]</c>, so such an array is refused (and a new
/// one made) here.
/// </para>
/// </remarks>
internal static class PooledArrays
{
    /// <summary>The smallest length the shared pool keeps (its first bucket); a table's smallest capacity.</summary>
    public const int MinimumLength = 16;

    /// <summary>
    /// Rents an array of <see cref="PowerOfTwoFor"/>(<paramref name="length"/>) elements, not zeroed: so arrays rented for the same
    /// length (a table's columns) are equally long, whatever the pool holds.
    /// </summary>
    public static T[] Rent<T>(int length)
    {
        if (length <= 0)
        {
            return [];
        }

        int size = PowerOfTwoFor(length);
        var array = ArrayPool<T>.Shared.Rent(size);
        if (array.Length != size || (!typeof(T).IsValueType && array.GetType() != typeof(T[])))
        {
            return new T[size]; // a covariant array (see the remarks): not one OwnedArrays.Store may write into
        }

        return array;
    }

    /// <summary>Rents an array as <see cref="Rent{T}(int)"/> does, all of its elements default.</summary>
    public static T[] RentCleared<T>(int length)
    {
        var array = Rent<T>(length);
        Array.Clear(array);
        return array;
    }

    /// <summary>
    /// Gives <paramref name="array"/> back to the pool (cleared first when <typeparamref name="T"/> holds references) when its length
    /// is one the pool keeps; any other (an empty array, a length that is not a power of two) is left to the collector.
    /// </summary>
    public static void Return<T>(T[] array)
    {
        if (array.Length >= MinimumLength && BitOperations.IsPow2(array.Length))
        {
            ArrayPool<T>.Shared.Return(array, RuntimeHelpers.IsReferenceOrContainsReferences<T>());
        }
    }

    /// <summary>Gives <paramref name="array"/> back and replaces it by an empty array (a released table holds nothing of the pool).</summary>
    public static void Release<T>(ref T[] array)
    {
        var old = array;
        array = [];
        Return(old);
    }

    /// <summary>
    /// Replaces <paramref name="array"/> by a rented one of at least <paramref name="length"/> elements holding its first
    /// <paramref name="count"/> elements (the rest not zeroed), and gives the old one back.
    /// </summary>
    public static void Resize<T>(ref T[] array, int length, int count)
    {
        var bigger = Rent<T>(length);
        Array.Copy(array, bigger, count);
        var old = array;
        array = bigger;
        Return(old);
    }

    /// <summary>The longest per-slot column array <see cref="ResizeCleared"/> and <see cref="ReleaseColumn"/> keep in the pool.</summary>
    public const int LargestPooledColumn = 1 << 18;

    /// <summary>
    /// <see cref="Array.Resize{T}(ref T[], int)"/> for an aggregate column's per-slot array (a new slot is empty): the first elements
    /// kept (as many as both have room for), <c>default</c> in the rest. Up to <see cref="LargestPooledColumn"/> elements the arrays
    /// are rented and a smaller old one is given back when growing, so a run's columns grow into what the last run left; bigger
    /// ones (millions of keys in one window) are made and dropped as <see cref="Array.Resize{T}(ref T[], int)"/> does, and a
    /// shrinking column's old array goes to the collector too: the memory of a burst goes back while the query runs on, instead of
    /// staying in the pool.
    /// </summary>
    public static void ResizeCleared<T>(ref T[] array, int length)
    {
        if (length > LargestPooledColumn)
        {
            Array.Resize(ref array, PowerOfTwoFor(length));
            return;
        }

        var resized = Rent<T>(length);
        int kept = Math.Min(array.Length, resized.Length);
        Array.Copy(array, resized, kept);
        Array.Clear(resized, kept, resized.Length - kept);
        var old = array;
        array = resized;
        if (old.Length <= resized.Length)
        {
            Return(old);
        }
    }

    /// <summary>At the end of a run: gives a column's array back when it is one <see cref="ResizeCleared"/> would keep, and empties the column.</summary>
    public static void ReleaseColumn<T>(ref T[] array)
    {
        var old = array;
        array = [];
        if (old.Length <= LargestPooledColumn)
        {
            Return(old);
        }
    }

    /// <summary>The smallest power of two that is at least <paramref name="count"/> and at least <see cref="MinimumLength"/>.</summary>
    public static int PowerOfTwoFor(int count) =>
        count <= MinimumLength ? MinimumLength : checked((int)BitOperations.RoundUpToPowerOf2((uint)count));
}
