using System.Runtime.InteropServices;

namespace LinqStream.Runtime.Ingress;

/// <summary>Replays an <see cref="IEnumerable{T}"/> as fast as the CPU allows, one batch per step.</summary>
/// <remarks>
/// Arrays, parts of arrays (<see cref="ArrayChunks{T}"/>) and lists are copied a batch at a time; other sequences are enumerated.
/// An array whose ingress feeds a filter/projection chain directly is not copied: the chain's fused kernel reads a slice of it
/// (<see cref="IFusedIngress{T}"/>), and only a slice it cannot take (out of order, a selector that throws) is copied.
/// </remarks>
internal sealed class EnumerableSource<T> : SourceDriver
{
    private readonly IEnumerable<T> _source;
    private readonly EventTime<T> _time;
    private readonly IngressOrderer<T> _orderer;
    private readonly BatchPool<T> _pool;
    private readonly QueryContext _context;
    private readonly string _name;
    private readonly IFusedIngress<T>? _fused;
    private IEnumerator<T>? _enumerator;
    private int _offset;
    private long _read;
    private long _skip;

    /// <summary>Initializes a driver of <paramref name="source"/>; <paramref name="fused"/> is the chain that reads slices of an array source itself, or null.</summary>
    public EnumerableSource(IEnumerable<T> source, EventTime<T> time, IngressOrderer<T> orderer, QueryContext context, string name, IFusedIngress<T>? fused = null)
    {
        _source = source;
        _fused = source is T[] && fused is { CanFuse: true } ? fused : null;
        _time = time;
        _orderer = orderer;
        _pool = context.Pool<T>();
        _context = context;
        _name = name;
    }

    public override long EventsRead => _read;

    /// <summary>Gets how many of the events read went through the fused chain (<see cref="IFusedIngress{T}"/>) instead of a batch copy.</summary>
    public long FusedEvents { get; private set; }

    public override bool IsLive => false;

    public override long MaxEventTime => _orderer.MaxSeen;

    public override long LateEvents => _orderer.LateEvents;

    /// <remarks>Arrays and lists are read by index; any other sequence is enumerated again and the first events skipped, so it must give the same items each time.</remarks>
    public override bool CanReplay => true;

    public override string SourceName => _name;

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
        if (_source is T[] or List<T> or ArrayChunks<T>)
        {
            _offset = checked((int)_read);
        }
        else
        {
            _skip = _read;
        }
    }

    public override bool TryStep()
    {
        if (IsCompleted)
        {
            return false;
        }

        if (_fused is not null && TryStepFused())
        {
            return true;
        }

        var batch = _pool.Rent();
        int count;
        bool exhausted;
        try
        {
            count = Read(batch.Payload, out exhausted);
        }
        catch (Exception ex)
        {
            _pool.Return(batch);
            Fault(Internal.Error.SourceFailed(_name, _read, ex));
            return true;
        }

        if (count > 0)
        {
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
        }
        else
        {
            _pool.Return(batch);
        }

        if (_orderer.Faulted)
        {
            Fault(null);
            return true;
        }

        if (exhausted)
        {
            IsCompleted = true;
            _enumerator?.Dispose();
            _orderer.Complete();
        }

        Watermark = _orderer.Watermark;
        return true;
    }

    /// <summary>One batch of an array through the fused chain; false when this slice takes the ordinary path (nothing done).</summary>
    private bool TryStepFused()
    {
        var array = (T[])_source;
        int n = Math.Min(_pool.BatchSize, array.Length - _offset);
        if (n <= 0 || !_fused!.TryPushFused(array, _offset, n, _orderer))
        {
            return false;
        }

        _offset += n;
        _read += n;
        FusedEvents += n;
        if (_offset >= array.Length)
        {
            IsCompleted = true;
            _orderer.Complete();
        }

        Watermark = _orderer.Watermark;
        return true;
    }

    public override void Dispose()
    {
        base.Dispose();
        _enumerator?.Dispose();
        _enumerator = null;
    }

    private int Read(T[] buffer, out bool exhausted)
    {
        switch (_source)
        {
            case T[] array:
                {
                    int n = Math.Min(buffer.Length, array.Length - _offset);
                    Array.Copy(array, _offset, buffer, 0, n);
                    _offset += n;
                    exhausted = _offset >= array.Length;
                    return n;
                }

            case ArrayChunks<T> chunks:
                {
                    // Every P-th chunk of an array, read by one source task (docs/parallelism.md, "Replayed arrays").
                    int n = chunks.CopyTo(_offset, buffer);
                    _offset += n;
                    exhausted = _offset >= chunks.Count;
                    return n;
                }

            case List<T> list:
                {
                    var span = CollectionsMarshal.AsSpan(list);
                    int n = Math.Min(buffer.Length, span.Length - _offset);
                    span.Slice(_offset, n).CopyTo(buffer);
                    _offset += n;
                    exhausted = _offset >= span.Length;
                    return n;
                }

            default:
                {
                    var e = _enumerator ??= _source.GetEnumerator();
                    for (; _skip > 0; _skip--)
                    {
                        if (!e.MoveNext())
                        {
                            throw new InvalidDataException($"The sequence ended {_skip} events before the position of the restored checkpoint ({_read}); it does not replay the same events.");
                        }
                    }

                    int n = 0;
                    while (n < buffer.Length)
                    {
                        if (!e.MoveNext())
                        {
                            exhausted = true;
                            return n;
                        }

                        buffer[n++] = e.Current;
                    }

                    exhausted = false;
                    return n;
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
}
