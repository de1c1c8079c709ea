using System.Buffers.Binary;

namespace LinqStream.Testing.Io;

/// <summary>A replayable <see cref="EventSource{T}"/> over an array, positioned by index; it can be told to fail at an index, to simulate a crash.</summary>
/// <typeparam name="T">The payload type.</typeparam>
public sealed class ArrayEventSource<T> : EventSource<T>
{
    private readonly T[] _items;
    private readonly string _name;
    private int _next;

    /// <summary>Initializes a new instance of the <see cref="ArrayEventSource{T}"/> class.</summary>
    /// <param name="items">The events.</param>
    /// <param name="name">The source's name (part of the query's fingerprint).</param>
    public ArrayEventSource(T[] items, string name)
    {
        _items = items;
        _name = name;
    }

    /// <summary>Gets or sets an index at which reading throws an <see cref="IOException"/> (the crash), or -1.</summary>
    public int FailAt { get; set; } = -1;

    /// <summary>Gets or sets the largest number of events returned by one read.</summary>
    public int MaxRead { get; set; } = int.MaxValue;

    /// <summary>
    /// Gets or sets what runs before each read, given the index the read starts at (for example a test holding the source at a
    /// point until a checkpoint completed); the read waits for it. <see langword="null"/>: reads complete at once.
    /// </summary>
    public Func<int, CancellationToken, ValueTask>? BeforeRead { get; set; }

    /// <summary>
    /// Gets or sets what runs after each read, given the number of events it returned (for example a benchmark counting what its
    /// sources handed out, once per read); <see langword="null"/>: nothing.
    /// </summary>
    public Action<int>? AfterRead { get; set; }

    /// <summary>Gets the index the last open started at.</summary>
    public int OpenedAt { get; private set; }

    /// <inheritdoc/>
    public override string Name => _name;

    /// <inheritdoc/>
    public override bool CanReplay => true;

    /// <inheritdoc/>
    public override ValueTask OpenAsync(SourceContext context, byte[]? position, CancellationToken cancellationToken)
    {
        _next = position is null ? 0 : BinaryPrimitives.ReadInt32LittleEndian(position);
        OpenedAt = _next;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public override ValueTask<SourceRead> ReadAsync(Memory<T> buffer, CancellationToken cancellationToken) =>
        BeforeRead is { } before ? ReadAfterAsync(before, buffer, cancellationToken) : ValueTask.FromResult(Read(buffer));

    /// <inheritdoc/>
    public override byte[] GetPosition()
    {
        var position = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(position, _next);
        return position;
    }

    private async ValueTask<SourceRead> ReadAfterAsync(Func<int, CancellationToken, ValueTask> before, Memory<T> buffer, CancellationToken cancellationToken)
    {
        await before(_next, cancellationToken).ConfigureAwait(false);
        return Read(buffer);
    }

    private SourceRead Read(Memory<T> buffer)
    {
        int n = Math.Min(Math.Min(buffer.Length, MaxRead), _items.Length - _next);
        if (FailAt >= 0 && _next + n > FailAt)
        {
            n = FailAt - _next;
            if (n == 0)
            {
                throw new IOException($"Simulated crash at event {FailAt}.");
            }
        }

        _items.AsSpan(_next, n).CopyTo(buffer.Span);
        _next += n;
        AfterRead?.Invoke(n);
        return new SourceRead(n, _next >= _items.Length);
    }
}
