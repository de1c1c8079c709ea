using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LinqStream.Runtime;

/// <summary>Stores into arrays the engine created itself as <c>new T[n]</c>, without the covariant store check.</summary>
/// <remarks>
/// In generic code shared over reference types, <c>array[i] = value</c> calls <c>CastHelpers.StelemRef</c>, which reads the
/// stored object's type to check it against the array's: a cache miss on a cold object (q9's auction closes, 13 % of its
/// samples, issue #19). An array made as <c>new T[n]</c> holds exactly <c>T</c>, so any <c>T</c> fits and the check can only
/// pass; never use this on an array that came from user code (it may be an array of a derived type).
/// </remarks>
internal static class OwnedArrays
{
    /// <summary><c>array[index] = value</c> for an array created as <c>new T[n]</c>; the index is still checked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<T>(T[] array, int index, T value)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)array.Length, nameof(index));
        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(array), index) = value;
    }
}
