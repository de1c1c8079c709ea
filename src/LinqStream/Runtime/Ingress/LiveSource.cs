using System.Threading.Channels;

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
        Channel = System.Threading.Channels.Channel.CreateBounded<T>(new BoundedChannelOptions(Math.Max(1024, context.BatchSize * 8))
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        Cancellation = new CancellationTokenSource();
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
        writer.Write(_read);
        Checkpoints.StateCodec.Write(writer, _orderer.CaptureState(), typeof(IngressState<T>));
    }

    public override void ReadState(BinaryReader reader)
    {
        _read = reader.ReadInt64();
        _orderer.RestoreState((IngressState<T>)Checkpoints.StateCodec.Read(reader, typeof(IngressState<T>))!);
        Watermark = _orderer.Watermark;
    }

    protected string Name { get; }

    protected Channel<T> Channel { get; }

    protected CancellationTokenSource Cancellation { get; }

    public override bool TryStep()
    {
        if (IsCompleted)
        {
            return false;
        }

        var reader = Channel.Reader;
        var batch = _pool.Rent();
        int n = 0;
        var buffer = batch.Payload;
        while (n < buffer.Length && reader.TryRead(out var item))
        {
            buffer[n++] = item;
        }

        if (n > 0)
        {
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

        _pool.Return(batch);
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
        Channel.Reader.WaitToReadAsync(cancellationToken).AsTask();

    public override void Dispose()
    {
        base.Dispose();
        if (!Cancellation.IsCancellationRequested)
        {
            Cancellation.Cancel();
        }

        Channel.Writer.TryComplete();
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

/// <summary>An <see cref="IObservable{T}"/> source: subscribed on a pool thread; <c>OnNext</c> waits while the channel is full.</summary>
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
                Channel.Writer.TryComplete(ex);
            }
        });

    public void OnNext(T value)
    {
        if (Channel.Writer.TryWrite(value))
        {
            return;
        }

        try
        {
            Channel.Writer.WriteAsync(value, Cancellation.Token).AsTask().GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            // The query was stopped; the producer's remaining events have nowhere to go.
        }
        catch (ChannelClosedException)
        {
            // Same: the query was stopped.
        }
    }

    public void OnError(Exception error) => Channel.Writer.TryComplete(error);

    public void OnCompleted() => Channel.Writer.TryComplete();

    public override void Dispose()
    {
        base.Dispose();
        _subscription?.Dispose();
    }
}

/// <summary>An <see cref="IAsyncEnumerable{T}"/> source, pumped by a task into the channel (awaiting when it is full).</summary>
internal sealed class AsyncEnumerableSource<T> : LiveSource<T>
{
    private readonly IAsyncEnumerable<T> _source;

    public AsyncEnumerableSource(IAsyncEnumerable<T> source, EventTime<T> time, IngressOrderer<T> orderer, QueryContext context, string name)
        : base(time, orderer, context, name) => _source = source;

    public override void Start() => _ = Task.Run(PumpAsync);

    private async Task PumpAsync()
    {
        var token = Cancellation.Token;
        try
        {
            await foreach (var item in _source.WithCancellation(token).ConfigureAwait(false))
            {
                await Channel.Writer.WriteAsync(item, token).ConfigureAwait(false);
            }

            Channel.Writer.TryComplete();
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            Channel.Writer.TryComplete();
        }
        catch (ChannelClosedException)
        {
            // The query was stopped.
        }
        catch (Exception ex)
        {
            Channel.Writer.TryComplete(ex);
        }
    }
}
