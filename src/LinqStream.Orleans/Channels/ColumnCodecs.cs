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

    /// <summary>
    /// Gets the codec of the events a job's source tasks send to its keyed tasks: only the members the keyed tasks read
    /// (<paramref name="crossing"/>, the engine's projection below the exchange) when <paramref name="project"/> and the type allow, else
    /// the type's codec. Both ends of the channel pick the same, from the same plan and submission.
    /// </summary>
    /// <param name="crossing">What the keyed aggregate reads of each event.</param>
    /// <param name="project">Whether the submission allows the projection (<see cref="JobSubmission.ProjectExchange"/>).</param>
    /// <param name="crosses">What crosses, for the job's log.</param>
    /// <param name="fallback">Why the events cross as JSON, when they do (null otherwise).</param>
    public static IColumnCodec<T> ForEvents<T>(Parallel.ExchangeProjection crossing, bool project, out string crosses, out string? fallback)
    {
        fallback = null;
        if (!RuntimeHelpers.IsReferenceOrContainsReferences<T>() && Nullable.GetUnderlyingType(typeof(T)) is null)
        {
            crosses = $"whole {typeof(T).Name} values, one memory copy per column (an unmanaged payload)";
            return For<T>();
        }

        string? refused = null;
        if (project && crossing.Members is { } members)
        {
            try
            {
                var projected = new BinaryColumnCodec<T>(members);
                crosses = crossing.Describe();
                return projected;
            }
            catch (Exception error) when (error is NotSupportedException or ArgumentException or InvalidOperationException)
            {
                refused = error.Message;
            }
        }

        var whole = For<T>(out fallback);
        crosses = !project ? $"whole {typeof(T).Name} events (JobSubmission.ProjectExchange is off)"
            : refused is not null ? $"whole {typeof(T).Name} events ({refused})"
            : crossing.Describe();
        return whole;
    }

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
