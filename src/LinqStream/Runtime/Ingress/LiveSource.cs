namespace LinqStream.Runtime.Ingress;

/// <summary>
/// A source whose events arrive on their own schedule: a producer writes them into a bounded channel, and each step drains
/// what is there (up to one batch), so a slow query slows the producer instead of filling memory.
/// </summary>
internal abstract class LiveSource<T> : SourceDriver
{
    private readonly EventTime<T> _time;
    private readonly IngressOrderer<T> _orderer;
    private readonly BatchPool<T> _pool;
    private readonly QueryContext _context;
    private long _read;

    protected LiveSource(EventTime<T> time, IngressOrderer<T> orderer, QueryContext context, string name)
    {
        _time = time;
        _orderer = orderer;
        _pool = context.Pool<T>();
        _context = context;
        Name = name;
        Cancellation = new CancellationTokenSource();
        // Eight batches may wait for the query (as before: at least 1,024 events), then the producer blocks.
        Handoff = new ChunkedHandoff<T>(context.BatchSize, Math.Max(8, 1024 / Math.Max(1, context.BatchSize)), Cancellation.Token);
    }

    public override long EventsRead => _read;

    public override bool IsLive => true;

    public override long MaxEventTime => _orderer.MaxSeen;

    public override long LateEvents => _orderer.LateEvents;

    /// <remarks>An observable or async sequence cannot be asked to start again at a position: a restored run gets whatever it produces next.</remarks>
    public override bool CanReplay => false;

    public override string SourceName => Name;

    public override void WriteState(BinaryWriter writer)
    {
        _orderer.WriteState(writer, _read);
    }

    public override void ReadState(BinaryReader reader)
    {
        _read = _orderer.ReadState(reader);
        Watermark = _orderer.Watermark;
    }

    protected string Name { get; }

    /// <summary>Gets where the producer writes its events (one thread at a time).</summary>
    protected ChunkedHandoff<T> Handoff { get; }

    protected CancellationTokenSource Cancellation { get; }

    public override bool TryStep()
    {
        if (IsCompleted)
        {
            return false;
        }

        var reader = Handoff.Reader;
        if (reader.TryRead(out var segment))
        {
            var batch = _pool.Rent();
            int n = segment.Count;
            if (segment.Owned && segment.Offset == 0 && segment.Items.Length == batch.Payload.Length)
            {
                // A full chunk: the batch takes the producer's array and gives its own back (no copy).
                var payload = batch.Payload;
                batch.Payload = segment.Items;
                Handoff.Return(segment with { Items = payload });
            }
            else
            {
                // A partial chunk (the flush timer, the producer's last events); never longer than a batch.
                Array.Copy(segment.Items, segment.Offset, batch.Payload, 0, n);
                Handoff.Return(segment);
            }

            try
            {
                _time.Fill(batch, n);
            }
            catch (Exception ex)
            {
                batch.Count = n;
                _pool.Return(batch);
                Fault(Internal.Error.EventTimeFailed(Name, _read, ex));
                return true;
            }

            batch.Count = n;
            _read += n;
            _orderer.Push(batch);
            if (_orderer.Faulted)
            {
                Fault(null);
                return true;
            }

            Watermark = _orderer.Watermark;
            return true;
        }

        var completion = reader.Completion;
        if (!completion.IsCompleted)
        {
            return false;
        }

        IsCompleted = true;
        if (completion.IsFaulted)
        {
            Fault(Internal.Error.SourceFailed(Name, _read, completion.Exception!.InnerException ?? completion.Exception));
        }
        else
        {
            _orderer.Complete();
            Watermark = _orderer.Watermark;
        }

        return true;
    }

    public override Task WaitForDataAsync(CancellationToken cancellationToken) =>
        Handoff.Reader.WaitToReadAsync(cancellationToken).AsTask();

    public override void Dispose()
    {
        base.Dispose();
        if (!Cancellation.IsCancellationRequested)
        {
            Cancellation.Cancel();
        }

        Handoff.Dispose();
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
}

/// <summary>An <see cref="IObservable{T}"/> source: subscribed on a pool thread; <c>OnNext</c> waits while the query is eight batches behind.</summary>
internal sealed class ObservableSource<T> : LiveSource<T>, IObserver<T>
{
    private readonly IObservable<T> _source;
    private IDisposable? _subscription;

    public ObservableSource(IObservable<T> source, EventTime<T> time, IngressOrderer<T> orderer, QueryContext context, string name)
        : base(time, orderer, context, name) => _source = source;

    public override void Start() =>
        // A producer that pushes everything inside Subscribe must not run on the query's own thread, or a full channel would deadlock.
        _ = Task.Run(() =>
        {
            try
            {
                var subscription = _source.Subscribe(this);
                if (Cancellation.IsCancellationRequested)
                {
                    subscription.Dispose();
                }
                else
                {
                    _subscription = subscription;
                }
            }
            catch (Exception ex)
            {
                Handoff.Complete(ex);
            }
        });

    /// <remarks>No lock, channel write or interlocked operation per event: see <see cref="ChunkedHandoff{T}"/>.</remarks>
    public void OnNext(T value) => Handoff.Write(value);

    public void OnError(Exception error) => Handoff.Complete(error);

    public void OnCompleted() => Handoff.Complete();

    public override void Dispose()
    {
        base.Dispose();
        _subscription?.Dispose();
    }
}

/// <summary>An <see cref="IAsyncEnumerable{T}"/> source, pumped by a task into the handoff's chunks.</summary>
internal sealed class AsyncEnumerableSource<T> : LiveSource<T>
{
    private readonly IAsyncEnumerable<T> _source;

    public AsyncEnumerableSource(IAsyncEnumerable<T> source, EventTime<T> time, IngressOrderer<T> orderer, QueryContext context, string name)
        : base(time, orderer, context, name) => _source = source;

    private Task? _pump;

    public override Task Released => _pump ?? Task.CompletedTask;

    public override void Start() => _pump = Task.Run(PumpAsync);

    private async Task PumpAsync()
    {
        var token = Cancellation.Token;
        try
        {
            // Writes go through the same chunks (a pending MoveNextAsync leaves the partial chunk to the flush timer);
            // before a write that fills a chunk, the pump awaits room, so it never blocks a pool thread.
            await foreach (var item in _source.WithCancellation(token).ConfigureAwait(false))
            {
                // A source that ignores the token (an iterator without [EnumeratorCancellation]) must still stop being pulled as
                // soon as the query stops, not at the end of the current chunk: one flag read per item.
                if (token.IsCancellationRequested)
                {
                    break;
                }

                if (Handoff.NextWriteFills && !await Handoff.WaitForRoomAsync(token).ConfigureAwait(false))
                {
                    return; // the query stopped
                }

                Handoff.Write(item);
            }

            Handoff.Complete();
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            Handoff.Complete();
        }
        catch (Exception ex)
        {
            Handoff.Complete(ex);
        }
    }
}
