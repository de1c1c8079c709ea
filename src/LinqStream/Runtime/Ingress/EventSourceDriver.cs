using System.Buffers;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace LinqStream.Runtime.Ingress;

/// <summary>
/// Reads an <see cref="EventSource{T}"/> on a pool thread into a bounded queue of chunks, each with the source's position after it
/// and the dead letters met while reading it; the query consumes the chunks, so a checkpoint holds the position of exactly the
/// events the query has seen, and dead letters come out once, in input order, when their chunk is consumed.
/// </summary>
/// <remarks>
/// When the runner has consumed every chunk and waits for this source (<see cref="WaitForDataAsync"/>), the reader that queues
/// the next chunk runs the runner's continuation on its own thread (<see cref="Wake"/>): a source slower than its query (one
/// bound by its server) hands each chunk over without waking a pool worker, which would otherwise take the chunk, run dry and
/// spin (<c>sched_yield</c>) before it parks, once per chunk. The reader reads on when the runner waits again. While the runner
/// is behind (chunks queued), nothing changes: the reader queues up to <see cref="QueuedChunks"/> chunks ahead and then waits for
/// room (backpressure). The end of the input, a failure, a cancelled wait and the query's stop (<see cref="Dispose"/>) still wake the
/// runner through the thread pool.
/// </remarks>
internal sealed class EventSourceDriver<T> : SourceDriver
{
    private const int QueuedChunks = 8;

    private readonly EventSource<T> _source;
    private readonly EventTime<T> _time;
    private readonly IngressOrderer<T> _orderer;
    private readonly BatchPool<T> _pool;
    private readonly QueryContext _context;
    private readonly string _name;
    private readonly Channel<Chunk> _chunks;
    private readonly CancellationTokenSource _cancellation = new();
    private readonly DeadLetterCollector _collector = new();
    private readonly IdlePartition? _idle;
    private byte[]? _position;
    private long _read;
    private long _blocked;
    private Task? _pump;

    /// <summary>The runner's wait for the next chunk, when it waits; taken (and completed) by exactly one of the reader and the runner.</summary>
    private DataSignal? _waiter;

    public EventSourceDriver(EventSource<T> source, EventTime<T> time, IngressOrderer<T> orderer, QueryContext context, string name)
    {
        _source = source;
        _time = time;
        _orderer = orderer;
        _pool = context.Pool<T>();
        _context = context;
        _name = name;
        _chunks = Channel.CreateBounded<Chunk>(new BoundedChannelOptions(QueuedChunks) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        _idle = (source as PartitionSource<T>)?.Group.Join(context, this, () => _chunks.Reader.Count > 0);
    }

    /// <summary>Gets the members of <typeparamref name="T"/> the query reads (null: every member), handed to the source in its <see cref="SourceContext"/>.</summary>
    public IReadOnlyList<string>? MembersRead { get; init; }

    public override long EventsRead => _read;

    public override long MaxEventTime => _orderer.MaxSeen;

    public override long LateEvents => _orderer.LateEvents;

    public override bool IsLive => true;

    public override long BlockedTimestampTicks => Interlocked.Read(ref _blocked);

    public override bool CanReplay => _source.CanReplay;

    public override string SourceName => _name;

    public override string CheckpointName => "EventSource";

    public override void Start()
    {
        _idle?.Started();
        _pump = Task.Run(PumpAsync);
    }

    /// <inheritdoc/>
    /// <remarks>The pump disposes the source in its last step, so its task ends after the source's <c>DisposeAsync</c>.</remarks>
    public override Task Released => _pump ?? Task.CompletedTask;

    public override bool TryStep()
    {
        if (IsCompleted)
        {
            return false;
        }

        if (!_chunks.Reader.TryRead(out var chunk))
        {
            var completion = _chunks.Reader.Completion;
            if (!completion.IsCompleted)
            {
                return AdvanceIdle();
            }

            IsCompleted = true;
            if (completion.IsFaulted)
            {
                var error = completion.Exception!.InnerException ?? completion.Exception;
                Fault(Internal.Error.SourceFailed(_name, _read, error));
            }
            else
            {
                _orderer.Complete();
                Watermark = _orderer.Watermark;
            }

            return true;
        }

        if (chunk.DeadLetters is { } letters)
        {
            try
            {
                foreach (var letter in letters)
                {
                    _context.DeadLetters.Write(letter);
                }
            }
            catch (Exception ex)
            {
                Release(chunk);
                Fault(Internal.Error.SourceFailed(_name, _read, ex));
                return true;
            }
        }

        _position = chunk.Position;
        if (chunk.Count == 0)
        {
            Release(chunk);
            return true;
        }

        var batch = _pool.Rent();
        Array.Copy(chunk.Items, batch.Payload, chunk.Count);
        int count = chunk.Count;
        Release(chunk);
        try
        {
            _time.Fill(batch, count);
        }
        catch (Exception ex)
        {
            batch.Count = count;
            _pool.Return(batch);
            Fault(Internal.Error.EventTimeFailed(_name, _read, ex));
            return true;
        }

        batch.Count = count;
        _read += count;
        _orderer.Push(batch);
        if (_orderer.Faulted)
        {
            Fault(null);
            return true;
        }

        Watermark = _orderer.Watermark;
        return true;
    }

    public override Task WaitForDataAsync(CancellationToken cancellationToken)
    {
        var data = WaitForChunk(cancellationToken);
        if (_idle is null || data.IsCompleted || _idle.IsIdle)
        {
            return data;
        }

        // A partition that is about to become idle must wake the runner then, so the other partitions' watermark can move on.
        return Task.WhenAny(data, Task.Delay(_idle.UntilIdle, _idle.Time, cancellationToken));
    }

    public override void WriteState(BinaryWriter writer)
    {
        writer.Write(_position is null ? -1 : _position.Length);
        if (_position is not null)
        {
            writer.Write(_position);
        }

        _orderer.WriteState(writer, _read);
    }

    public override void ReadState(BinaryReader reader)
    {
        int length = reader.ReadInt32();
        _position = length < 0 ? null : reader.ReadBytes(length);
        _read = _orderer.ReadState(reader);
        Watermark = _orderer.Watermark;
    }

    public override void Dispose()
    {
        base.Dispose();
        if (!_cancellation.IsCancellationRequested)
        {
            _cancellation.Cancel();
        }

        // A runner waiting for this source goes on (and sees the stop). Dropping its wait instead, registration and all, left it
        // waiting forever when the query was stopped before its token was cancelled (a consumer leaving ToAsyncEnumerable).
        WakeThroughPool();

        while (_chunks.Reader.TryRead(out var chunk))
        {
            Release(chunk);
        }
    }

    /// <summary>An idle partition moves its watermark up to the active partitions' lowest, so it does not hold the query back.</summary>
    private bool AdvanceIdle()
    {
        if (_idle?.IdleWatermark() is not { } watermark || watermark <= _orderer.Watermark)
        {
            return false;
        }

        _orderer.AdvanceTo(watermark);
        Watermark = _orderer.Watermark;
        return true;
    }

    /// <summary>
    /// Completes when a chunk is queued, the input ended or failed, or <paramref name="cancellationToken"/> fires (the task is then
    /// cancelled). The wait is published before the queue is looked at again, and the reader takes it after every chunk it
    /// queues, so a chunk queued in between is never missed.
    /// </summary>
    private Task WaitForChunk(CancellationToken cancellationToken)
    {
        var reader = _chunks.Reader;
        if (reader.Count > 0 || reader.Completion.IsCompleted)
        {
            return Task.CompletedTask;
        }

        var signal = new DataSignal();
        if (cancellationToken.CanBeCanceled)
        {
            // Through the pool, as the channel's own wait did: the runner does not go on on the thread that cancels.
            signal.Registration = cancellationToken.UnsafeRegister(static s => ThreadPool.UnsafeQueueUserWorkItem(static d => d.TrySetCanceled(), (DataSignal)s!, preferLocal: false), signal);
        }

        // A wait still published is one the runner gave up (another source woke it first): its registration goes now.
        Interlocked.Exchange(ref _waiter, signal)?.Registration.Dispose();
        if (reader.Count > 0 || reader.Completion.IsCompleted)
        {
            if (Interlocked.CompareExchange(ref _waiter, null, signal) == signal)
            {
                signal.Registration.Dispose();
            }

            return Task.CompletedTask;
        }

        return signal.Task;
    }

    /// <summary>After a chunk was queued: a runner waiting for it goes on here, on the reader's thread, until it waits again.</summary>
    private void Wake()
    {
        if (Interlocked.Exchange(ref _waiter, null) is { } signal)
        {
            signal.Registration.Dispose();
            signal.TrySetResult();
        }
    }

    /// <summary>Ends the queue (the input's end, or its failure) and wakes a waiting runner through the thread pool.</summary>
    private void Complete(Exception? error = null)
    {
        _chunks.Writer.TryComplete(error);
        WakeThroughPool();
    }

    /// <summary>Takes the runner's pending wait, if any, and completes it on a pool thread (not on the thread that ends or stops the source).</summary>
    private void WakeThroughPool()
    {
        if (Interlocked.Exchange(ref _waiter, null) is { } signal)
        {
            signal.Registration.Dispose();
            ThreadPool.UnsafeQueueUserWorkItem(static d => d.TrySetResult(), signal, preferLocal: false);
        }
    }

    private static void Release(Chunk chunk) => ArrayPool<T>.Shared.Return(chunk.Items, RuntimeHelpers.IsReferenceOrContainsReferences<T>());

    private async Task PumpAsync()
    {
        var token = _cancellation.Token;
        var writer = _chunks.Writer;
        int size = _context.BatchSize;
        try
        {
            await _source.OpenAsync(new SourceContext(_collector, _context.TimeProvider) { MembersRead = MembersRead }, _position, token).ConfigureAwait(false);
            while (true)
            {
                var items = ArrayPool<T>.Shared.Rent(size);
                SourceRead read;
                try
                {
                    read = await _source.ReadAsync(items.AsMemory(0, size), token).ConfigureAwait(false);
                }
                catch
                {
                    ArrayPool<T>.Shared.Return(items, RuntimeHelpers.IsReferenceOrContainsReferences<T>());
                    throw;
                }

                if (read.Count < 0 || read.Count > size)
                {
                    throw new InvalidOperationException($"Source '{_name}' returned {read.Count} events for a buffer of {size}.");
                }

                var letters = _collector.Take();
                if (read.Count > 0)
                {
                    _idle?.Received(); // judged where data arrives, not where the query consumes it
                }

                if (read.Count > 0 || letters is not null)
                {
                    var chunk = new Chunk(items, read.Count, _source.GetPosition(), letters);
                    if (!writer.TryWrite(chunk))
                    {
                        // The queue is full: the query is slower than the source. The wait is backpressure, measured once per chunk.
                        long blockedSince = System.Diagnostics.Stopwatch.GetTimestamp();
                        await writer.WriteAsync(chunk, token).ConfigureAwait(false);
                        Interlocked.Add(ref _blocked, System.Diagnostics.Stopwatch.GetTimestamp() - blockedSince);
                    }

                    Wake();
                }
                else
                {
                    ArrayPool<T>.Shared.Return(items, RuntimeHelpers.IsReferenceOrContainsReferences<T>());
                }

                if (read.IsCompleted)
                {
                    Complete();
                    return;
                }

                if (read.Count == 0)
                {
                    // Nothing new: a live source should already have waited a little; do not spin if it did not.
                    await Task.Delay(1, token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            Complete();
        }
        catch (ChannelClosedException)
        {
            // The query was stopped.
        }
        catch (Exception ex)
        {
            Complete(ex);
        }
        finally
        {
            try
            {
                await _source.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Complete(ex);
            }
        }
    }

    private void Fault(Exception? error)
    {
        if (error is not null)
        {
            _orderer.Fail(error);
        }

        _context.Stop(); // first: the stop sees this source unfinished, so the query did not run to its end
        IsCompleted = true;
    }

    private sealed record Chunk(T[] Items, int Count, byte[] Position, List<DeadLetter>? DeadLetters);

    /// <summary>
    /// The runner's wait for a chunk. Its continuations run where it is completed (no <see cref="TaskCreationOptions.RunContinuationsAsynchronously"/>):
    /// on the reader's thread when a chunk wakes it (<see cref="Wake"/>), on a pool thread otherwise.
    /// </summary>
    private sealed class DataSignal : TaskCompletionSource
    {
        public CancellationTokenRegistration Registration { get; set; }
    }

    /// <summary>Collects the dead letters a source reports during one read (on the reader task); they travel with the chunk.</summary>
    private sealed class DeadLetterCollector : IDeadLetterSink
    {
        private List<DeadLetter>? _letters;

        public void Write(DeadLetter letter)
        {
            ArgumentNullException.ThrowIfNull(letter);
            (_letters ??= []).Add(letter);
        }

        public List<DeadLetter>? Take()
        {
            var letters = _letters;
            _letters = null;
            return letters;
        }
    }
}
