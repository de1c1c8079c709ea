namespace LinqStream.Runtime.Ingress;

/// <summary>What kind of source an ingress reads (for the compiler, which sees a source only as an object).</summary>
internal static class EventSources
{
    /// <summary>Whether <paramref name="source"/> is an <see cref="EventSource{T}"/> (the sources that decode records, and may decode only what is read).</summary>
    public static bool IsEventSource(object source)
    {
        for (var type = source.GetType(); type is not null; type = type.BaseType)
        {
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(EventSource<>))
            {
                return true;
            }
        }

        return false;
    }
}
