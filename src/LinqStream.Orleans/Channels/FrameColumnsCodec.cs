using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Orleans.Serialization.Buffers;
using Orleans.Serialization.Codecs;
using Orleans.Serialization.WireProtocol;

namespace LinqStream.Orleans.Channels;

/// <summary>
/// Orleans' wire format of <see cref="FrameColumns"/>: the length, then the bytes (as Orleans writes a <c>byte[]</c>), read into an
/// array rented from the pool instead of a new one per frame (the receive path's allocation: issue #17).
/// </summary>
[RegisterSerializer]
internal sealed class FrameColumnsCodec : IFieldCodec<FrameColumns>
{
    /// <inheritdoc/>
    public void WriteField<TBufferWriter>(ref Writer<TBufferWriter> writer, uint fieldIdDelta, [AllowNull] Type expectedType, [AllowNull] FrameColumns value)
        where TBufferWriter : IBufferWriter<byte>
    {
        if (ReferenceCodec.TryWriteReferenceField(ref writer, fieldIdDelta, expectedType, value))
        {
            return;
        }

        writer.WriteFieldHeader(fieldIdDelta, expectedType, typeof(FrameColumns), WireType.LengthPrefixed);
        var bytes = value.Span;
        writer.WriteVarUInt32((uint)bytes.Length);
        writer.Write(bytes);
    }

    /// <inheritdoc/>
    [return: MaybeNull]
    public FrameColumns ReadValue<TInput>(ref Reader<TInput> reader, Field field)
    {
        if (field.WireType == WireType.Reference)
        {
            return ReferenceCodec.ReadReference<FrameColumns, TInput>(ref reader, field)!; // null: a frame without columns
        }

        field.EnsureWireType(WireType.LengthPrefixed);
        uint length = reader.ReadVarUInt32();
        if (length > FrameColumns.MaxLength)
        {
            throw new InvalidDataException($"A channel frame says its columns take {length} bytes; at most {FrameColumns.MaxLength} are read.");
        }

        var columns = FrameColumns.Rent((int)length, fromWire: true);
        try
        {
            reader.ReadBytes(columns.Writable);
        }
        catch
        {
            columns.Return();
            throw;
        }

        ReferenceCodec.RecordObject(reader.Session, columns);
        return columns;
    }
}
