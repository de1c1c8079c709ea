using System.Buffers;
using System.Text;
using NATS.Client.Core;

namespace LinqStream.Connectors.Nats;

/// <summary>A message decoded by the connector's serializer, or the reason and text of one that could not be.</summary>
internal readonly struct DecodedMessage<T>
{
    public DecodedMessage(T value)
    {
        Value = value;
        Error = null;
        Raw = null;
        HasValue = true;
    }

    public DecodedMessage(string error, string raw)
    {
        Value = default!;
        Error = error;
        Raw = raw;
    }

    public T Value { get; }

    /// <summary>Gets a value indicating whether <see cref="Value"/> was decoded (false also for an empty message the client did not pass to the deserializer).</summary>
    public bool HasValue { get; }

    public string? Error { get; }

    public string? Raw { get; }
}

/// <summary>Adapts an <see cref="EventSerializer{T}"/> to NATS.Net, keeping decode failures as data (they become dead letters).</summary>
internal sealed class DecodingDeserializer<T> : INatsDeserialize<DecodedMessage<T>>
{
    private readonly EventSerializer<T> _serializer;

    public DecodingDeserializer(EventSerializer<T> serializer) => _serializer = serializer;

    public DecodedMessage<T> Deserialize(in ReadOnlySequence<byte> buffer)
    {
        byte[]? rented = null;
        ReadOnlySpan<byte> span;
        if (buffer.IsSingleSegment)
        {
            span = buffer.FirstSpan;
        }
        else
        {
            rented = ArrayPool<byte>.Shared.Rent((int)buffer.Length);
            buffer.CopyTo(rented);
            span = rented.AsSpan(0, (int)buffer.Length);
        }

        try
        {
            return new DecodedMessage<T>(_serializer.Deserialize(span));
        }
        catch (Exception ex)
        {
            return new DecodedMessage<T>(ex.Message, Encoding.UTF8.GetString(span));
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
