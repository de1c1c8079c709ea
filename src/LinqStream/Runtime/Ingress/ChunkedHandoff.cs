using System.Collections.Concurrent;
using System.Threading.Channels;

namespace LinqStream.Runtime.Ingress;

/// <summary>
/// Hands events from one producer thread to the query thread in whole arrays: the producer fills a chunk with a plain store and a
/// release-store of its count per event (no lock, no interlocked operation, no channel write per event), and publishes the chunk
/// when it is full; a timer publishes what a slow or idle producer has written so far, so no event waits longer than
/// <see cref="FlushInterval"/> before the query can read it.
/// </summary>
/// <remarks>
/// <para>
/// Ordering: every publication (a full chunk by the producer, a partial one by the timer, the last one at completion) happens under
/// one lock, and each takes the range <c>[published, count)</c> of the current chunk and moves <c>published</c> past it, so the
/// query reads the events exactly once, in the producer's order. The producer takes that lock once per chunk, not per event.
/// </para>
/// <para>
/// Backpressure: at most <c>capacity</c> chunks wait for the query; a producer with a full chunk then blocks (an
/// <see cref="IObserver{T}"/> has no other way to slow down), while the timer skips its turn.
/// </para>
/// </remarks>
/// <typeparam name="T">The event type.</typeparam>
internal sealed class ChunkedHandoff<T> : IDisposable
{
    /// <summary>The longest an event written by the producer waits before the query can read it (plus the query's own step).</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(1);

    private readonly int _chunkSize;
    private readonly Channel<Segment> _ready;
    private readonly ConcurrentQueue<T[]> _free = new();
    private readonly Lock _publish = new();
    private readonly Timer _timer;
    private readonly CancellationToken _cancellation;
    private Chunk _current;
    private bool _closed;

    /// <summary>Initializes a handoff.</summary>
    /// <param name="chunkSize">Events per chunk (the query's batch size).</param>
    /// <param name="capacity">Chunks that may wait for the query before the producer blocks.</param>
    /// <param name="cancellation">Ends a blocked producer's wait when the query stops.</param>
    public ChunkedHandoff(int chunkSize, int capacity, CancellationToken cancellation)
    {
        _chunkSize = Math.Max(1, chunkSize);
        _cancellation = cancellation;
        _ready = Channel.CreateBounded<Segment>(new BoundedChannelOptions(Math.Max(2, capacity)) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _current = new Chunk(new T[_chunkSize]);
        _timer = new Timer(static state => ((ChunkedHandoff<T>)state!).FlushFromTimer(), this, FlushInterval, FlushInterval);
    }

    /// <summary>Gets the reader side: segments of events, in order; completed (with the producer's error, if any) after the last.</summary>
    public ChannelReader<Segment> Reader => _ready.Reader;

    /// <summary>Adds one event (producer thread only; calls are not concurrent, as the Rx contract requires of <c>OnNext</c>).</summary>
    public void Write(T item)
    {
        var chunk = _current;
        int n = chunk.Count;
        chunk.Items[n] = item;
        Volatile.Write(ref chunk.Count, n + 1);
        if (n + 1 == chunk.Items.Length)
        {
            PublishFull(chunk);
        }
    }

    /// <summary>Gets a value indicating whether the next <see cref="Write"/> fills the chunk (and may wait for the query).</summary>
    public bool NextWriteFills => _current.Count + 1 == _current.Items.Length;

    /// <summary>Waits, without blocking a thread, until the query has room for another chunk (an async producer calls it before a filling write).</summary>
    public ValueTask<bool> WaitForRoomAsync(CancellationToken cancellationToken) => _ready.Writer.WaitToWriteAsync(cancellationToken);

    /// <summary>Publishes what is left and completes the reader (producer thread; <paramref name="error"/> completes it faulted).</summary>
    public void Complete(Exception? error = null)
    {
        lock (_publish)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            var chunk = _current;
            int count = Volatile.Read(ref chunk.Count);
            if (count > chunk.Published)
            {
                // The last segment waits for room like any other (the query drains it), unless the query has stopped.
                var segment = Take(chunk, count);
                try
                {
                    WaitToWrite(segment);
                }
                catch (OperationCanceledException)
                {
                }
                catch (ChannelClosedException)
                {
                }
            }
        }

        _timer.Dispose();
        _ready.Writer.TryComplete(error);
    }

    /// <summary>Gives an array of a read segment back to the producer's side.</summary>
    public void Return(Segment segment)
    {
        if (segment.Owned && segment.Items.Length == _chunkSize)
        {
            _free.Enqueue(segment.Items);
        }
    }

    /// <summary>Stops the timer and closes the reader (the query stopped); a blocked producer's wait ends.</summary>
    public void Dispose()
    {
        _timer.Dispose();
        _ready.Writer.TryComplete();
    }

    private void PublishFull(Chunk chunk)
    {
        lock (_publish)
        {
            if (_closed)
            {
                return;
            }

            var segment = Take(chunk, chunk.Items.Length);
            _current = new Chunk(_free.TryDequeue(out var items) ? items : new T[_chunkSize]);
            if (segment.Count == 0)
            {
                // The timer published the whole chunk (between the producer's last write and this lock): nothing is left.
                _free.Enqueue(chunk.Items);
                return;
            }

            try
            {
                WaitToWrite(segment);
            }
            catch (OperationCanceledException)
            {
                // The query stopped: the producer's events have nowhere to go.
            }
            catch (ChannelClosedException)
            {
            }
        }
    }

    /// <summary>Runs on a timer thread: publishes a slow producer's partial chunk, unless the producer is publishing or the queue is full.</summary>
    private void FlushFromTimer()
    {
        if (!_publish.TryEnter())
        {
            return;
        }

        try
        {
            var chunk = _current;
            int count = Volatile.Read(ref chunk.Count);
            if (_closed || count <= chunk.Published)
            {
                return;
            }

            // Copy the written range out: the producer goes on writing after it in the same array.
            var items = new T[count - chunk.Published];
            Array.Copy(chunk.Items, chunk.Published, items, 0, items.Length);
            if (_ready.Writer.TryWrite(new Segment(items, 0, items.Length, Owned: false)))
            {
                chunk.Published = count;
            }
        }
        finally
        {
            _publish.Exit();
        }
    }

    private static Segment Take(Chunk chunk, int count)
    {
        int from = chunk.Published;
        chunk.Published = count;
        return new Segment(chunk.Items, from, count - from, Owned: true);
    }

    private void WaitToWrite(Segment segment)
    {
        if (!_ready.Writer.TryWrite(segment))
        {
            _ready.Writer.WriteAsync(segment, _cancellation).AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>A run of events: <c>Items[Offset .. Offset + Count)</c>; <paramref name="Owned"/> arrays go back to the producer after reading.</summary>
    internal readonly record struct Segment(T[] Items, int Offset, int Count, bool Owned);

    private sealed class Chunk(T[] items)
    {
        public readonly T[] Items = items;

        public int Count;

        // Written only under the publish lock.
        public int Published;
    }
}
