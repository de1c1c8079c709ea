using LinqStream.Runtime.Checkpoints;

namespace LinqStream.Runtime.State;

/// <summary>
/// The checkpoint section of a spilled join (<c>SpilledWindowJoinOperator</c>, <c>SpilledTemporalJoinOperator</c>): the heap
/// operator's state (<see cref="StateCodec"/>), the operator's next sequence number for spilled events, and its store's manifest.
/// </summary>
internal static class SpilledJoinSection
{
    /// <summary>The section written at once (a savepoint): the state is captured, then the store checkpointed on this thread.</summary>
    public static void WriteNow<TState>(BinaryWriter writer, IKeyedStateStore store, TState state, long sequence)
    {
        Write(writer, state, sequence, store.Checkpoint());
    }

    /// <summary>
    /// Commits the store and begins its checkpoint, then captures the state: the section is written once the store's second part (off
    /// this thread) has its manifest.
    /// </summary>
    public static DeferredSection Begin<TState>(IKeyedStateStore store, Func<TState> capture, long sequence)
    {
        store.Commit();
        var manifest = store.BeginCheckpoint();
        var state = capture();
        return new DeferredSection(manifest, writer => Write(writer, state, sequence, manifest.GetAwaiter().GetResult()));
    }

    public static void Write<TState>(BinaryWriter writer, TState state, long sequence, byte[] manifest)
    {
        StateCodec.Write(writer, state, typeof(TState));
        writer.Write(sequence);
        writer.Write(manifest.Length);
        writer.Write(manifest);
    }

    /// <summary>Reads a section and restores the store from its manifest (every key group: a join runs on one task at every parallelism).</summary>
    public static TState Read<TState>(BinaryReader reader, IKeyedStateStore store, int keyGroups, out long sequence)
    {
        var state = (TState)StateCodec.Read(reader, typeof(TState))!;
        sequence = reader.ReadInt64();
        byte[] manifest = reader.ReadBytes(reader.ReadInt32());
        store.Restore([manifest], 0, keyGroups);
        return state;
    }
}

/// <summary>Reads a stored value with a <see cref="BinaryReader"/> (one buffer, reused), and grows a key buffer.</summary>
#pragma warning disable CA1001 // A MemoryStream over a managed buffer: Dispose frees nothing.
internal sealed class StoredValueReader
#pragma warning restore CA1001
{
    private readonly MemoryStream _stream = new();

    public StoredValueReader() => Reader = new BinaryReader(_stream);

    public BinaryReader Reader { get; }

    /// <summary>Copies <paramref name="value"/> into the reader's buffer and returns the reader at its start.</summary>
    public BinaryReader Load(ReadOnlySpan<byte> value)
    {
        _stream.SetLength(0);
        _stream.Write(value);
        _stream.Position = 0;
        return Reader;
    }

    /// <summary>Makes <paramref name="buffer"/> at least <paramref name="length"/> bytes long (doubling).</summary>
    public static void Ensure(ref byte[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            buffer = new byte[Math.Max(length, buffer.Length * 2)];
        }
    }
}
