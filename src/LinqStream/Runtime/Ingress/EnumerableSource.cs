using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LinqStream.Runtime.Ingress;

/// <summary>Replays an <see cref="IEnumerable{T}"/> as fast as the CPU allows, one batch per step.</summary>
/// <remarks>
/// Arrays, parts of arrays (<see cref="ArrayChunks{T}"/>) and lists (<see cref="IReadOnlyList{T}"/>, read by index) are copied a
/// batch at a time; other sequences are enumerated. An array or list whose ingress feeds a filter/projection chain directly, or
/// a multicast whose consumers all are such chains, is not copied into batches: the chains' fused kernels read a slice of the
/// array itself (<see cref="IFusedIngress{T}"/>; a list's slice is first copied into one reused array), and only a slice they
/// cannot take (out of order, a selector that throws) comes again as a batch. An array is always read in place (a copy of each
/// slice first did not win in both orders of a quiet A/B: benchmarks/RESULTS.md, "Session 16 — replay16").
/// </remarks>
internal sealed class EnumerableSource<T> : SourceDriver
{
    private readonly IEnumerable<T> _source;
    private readonly EventTime<T> _time;
    private readonly IngressOrderer<T> _orderer;
    private readonly BatchPool<T> _pool;
    private readonly QueryContext _context;
    private readonly string _name;
    private IFusedIngress<T>? _fusedCandidate; // asked once wiring is done: a multicast knows its consumers only then
    private IFusedIngress<T>? _fused;
    private T[]? _slice; // a list's slice, for the fused chains
    private IEnumerator<T>? _enumerator;
    private int _offset;
    private long _read;
    private long _skip;

    /// <summary>Initializes a driver of <paramref name="source"/>; <paramref name="fused"/> is the chain (or the multicast to chains) that reads slices of an array or list source itself, or null.</summary>
    public EnumerableSource(IEnumerable<T> source, EventTime<T> time, IngressOrderer<T> orderer, QueryContext context, string name, IFusedIngress<T>? fused = null)
    {
        _source = source;
        _fusedCandidate = source is IReadOnlyList<T> ? fused : null;
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
        _orderer.WriteState(writer, _read);
    }

    public override void ReadState(BinaryReader reader)
    {
        _read = _orderer.ReadState(reader);
        Watermark = _orderer.Watermark;
        if (_source is IReadOnlyList<T> or ArrayChunks<T>)
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

        if (_fusedCandidate is { } candidate)
        {
            _fused = candidate.CanFuse ? candidate : null;
            _fusedCandidate = null;
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

    /// <summary>One batch of an array or list through the fused chains; false when this slice takes the ordinary path (nothing done).</summary>
    private bool TryStepFused()
    {
        T[] array;
        int offset, n, length;
        switch (_source)
        {
            case T[] source:
                length = source.Length;
                n = Math.Min(_pool.BatchSize, length - _offset);
                array = source;
                offset = _offset;
                break;

            case List<T> list:
                {
                    var span = CollectionsMarshal.AsSpan(list);
                    length = span.Length;
                    n = Math.Min(_pool.BatchSize, length - _offset);
                    array = _slice ??= new T[_pool.BatchSize];
                    offset = 0;
                    if (n > 0)
                    {
                        span.Slice(_offset, n).CopyTo(array);
                    }

                    break;
                }

            default:
                {
                    var list = (IReadOnlyList<T>)_source;
                    array = _slice ??= new T[_pool.BatchSize];
                    offset = 0;
                    try
                    {
                        length = list.Count;
                        n = Math.Min(_pool.BatchSize, length - _offset);
                        for (int i = 0; i < n; i++)
                        {
                            array[i] = list[_offset + i];
                        }
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        return false; // the ordinary read reports it, at the same position
                    }

                    break;
                }
        }

        if (n <= 0 || !_fused!.TryPushFused(array, offset, n, _orderer))
        {
            return false;
        }

        _offset += n;
        _read += n;
        FusedEvents += n;
        if (_offset >= length)
        {
            IsCompleted = true;
            ClearSlice();
            _orderer.Complete();
        }

        Watermark = _orderer.Watermark;
        return true;
    }

    /// <summary>Drops the references the last list slice held (the events are the caller's, but a finished query should not keep them).</summary>
    private void ClearSlice()
    {
        if (_slice is not null && RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            Array.Clear(_slice);
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        ClearSlice();
        _slice = null;
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
                    int n = Math.Min(buffer.Length, Remaining(span.Length));
                    span.Slice(_offset, n).CopyTo(buffer);
                    _offset += n;
                    exhausted = _offset >= span.Length;
                    return n;
                }

            case IReadOnlyList<T> list:
                {
                    // Read by index: one call per event instead of the enumerator's two, and a restore starts at its position.
                    int count = list.Count;
                    int n = Math.Min(buffer.Length, Remaining(count));
                    for (int i = 0; i < n; i++)
                    {
                        buffer[i] = list[_offset + i];
                    }

                    _offset += n;
                    exhausted = _offset >= count;
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

    /// <summary>The events of a list of <paramref name="count"/> after the position; a list shorter than a restored position does not replay the same events.</summary>
    private int Remaining(int count) => count >= _offset
        ? count - _offset
        : throw new InvalidDataException($"The sequence ended {_offset - count} events before the position of the restored checkpoint ({_read}); it does not replay the same events.");

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
