namespace LinqStream;

/// <summary>An event as the engine sees it: a payload and its lifetime <c>[Start, End)</c> in ticks.</summary>
/// <typeparam name="T">The payload type.</typeparam>
/// <param name="Start">The first tick at which the event is alive.</param>
/// <param name="End">The first tick at which the event is no longer alive (exclusive).</param>
/// <param name="Payload">The event's payload.</param>
public readonly record struct StreamEvent<T>(long Start, long End, T Payload)
{
    /// <summary>Gets a value indicating whether the event lives exactly one tick.</summary>
    public bool IsPoint => End - Start == 1;
}
