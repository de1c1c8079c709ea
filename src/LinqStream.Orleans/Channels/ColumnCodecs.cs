using System.Runtime.CompilerServices;

namespace LinqStream.Orleans.Channels;

/// <summary>
/// Picks the column codec of a payload type: its memory when it is unmanaged (<see cref="BlittableColumnCodec{T}"/>), member by
/// member in binary otherwise (<see cref="BinaryColumnCodec{T}"/>), and JSON (<see cref="StateColumnCodec{T}"/>) only for a type the
/// binary codec refuses, with the reason.
/// </summary>
internal static class ColumnCodecs
{
    /// <summary>Gets a codec for one channel end.</summary>
    public static IColumnCodec<T> For<T>() => For<T>(out _);

    /// <summary>Gets a codec for one channel end; <paramref name="fallback"/> says why it is JSON when it is (null otherwise).</summary>
    public static IColumnCodec<T> For<T>(out string? fallback)
    {
        fallback = null;
        if (!RuntimeHelpers.IsReferenceOrContainsReferences<T>() && Nullable.GetUnderlyingType(typeof(T)) is null)
        {
            // A struct without references satisfies the 'unmanaged' constraint; the constraint cannot be stated here, so the
            // generic type is made at run time, once per channel end (not per event).
            return (IColumnCodec<T>)typeof(BlittableColumnCodec<>).MakeGenericType(typeof(T)).GetProperty(nameof(BlittableColumnCodec<int>.Instance))!.GetValue(null)!;
        }

        try
        {
            return new BinaryColumnCodec<T>();
        }
        catch (Exception error) when (error is NotSupportedException or ArgumentException or InvalidOperationException)
        {
            fallback = $"Events of {typeof(T).FullName} cross silos as JSON (StateColumnCodec, much slower than binary): {error.Message}";
            return new StateColumnCodec<T>();
        }
    }
}
