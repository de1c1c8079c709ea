using System.Threading.Channels;

namespace LinqStream.Runtime.Egress;

/// <summary>The end of a pulled query: results go into a bounded channel; the query waits while the reader is behind.</summary>
internal sealed class ChannelSink<T, TOut> : IStreamObserver<T>
{
    private readonly ChannelWriter<TOut> _writer;
    private readonly BatchPool<T> _pool;
    private readonly QueryContext _context;
    private readonly Func<long, long, T, TOut> _map;

    public ChannelSink(ChannelWriter<TOut> writer, QueryContext context, Func<long, long, T, TOut> map)
    {
        _writer = writer;
        _pool = context.Pool<T>();
        _context = context;
        _map = map;
    }

    public void OnBatch(EventBatch<T> batch)
    {
        try
        {
            for (int i = 0; i < batch.Count; i++)
            {
                if (batch.IsAbsent(i))
                {
                    continue;
                }

                var item = _map(batch.Start[i], batch.End[i], batch.Payload[i]);
                if (!_writer.TryWrite(item))
                {
                    try
                    {
                        _writer.WriteAsync(item).AsTask().GetAwaiter().GetResult();
                    }
                    catch (ChannelClosedException)
                    {
                        _context.Stop(); // the reader went away
                        return;
                    }
                }
            }
        }
        finally
        {
            _pool.Return(batch);
        }
    }

    public void OnWatermark(long watermark)
    {
    }

    public void OnCompleted() => _writer.TryComplete();

    public void OnError(Exception error) => _writer.TryComplete(error);
}
