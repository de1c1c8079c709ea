using LinqStream.Orleans.Channels;
using LinqStream.Parallel;
using LinqStream.Runtime;

namespace LinqStream.Orleans.Tasks;

/// <summary>
/// A source task of a job spread over silos: reads the input below the keyed aggregate (sources, ingress, the operators below
/// it) and hashes each event to the keyed task owning its key group, as <see cref="KeyedParallelRun{T, TKey, TResult}"/>'s source
/// task does, but each task's channel crosses to the task's silo. Checkpoint barrier n is served between two steps: the parts'
/// state is written (the answer to the coordinator's call), then the barrier goes into every channel after the data before it.
/// Over a union of partitions, source task s of S reads a contiguous group of them through a union of its own (its first part:
/// its share of the union over all partitions in a checkpoint, <see cref="CanonicalUnion"/>).
/// </summary>
/// <remarks>
/// The hash exchange fills bounded in-process channels (<see cref="SpscChannel{T}"/>, 8 messages each); a pump thread per channel
/// takes its messages in order and sends them on the keyed task's cross-silo channel (<see cref="ChannelWriter{T}"/>), bounded by
/// the receiver's credit, so a slow keyed task holds the source back.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "Its token source is cancelled by Stop and never disposed: threads still ending may register on it, and without a timer it holds nothing to release.")]
internal sealed class SourceTaskRun<T, TKey> : ITaskRun, ISourceTask
{
    private const int LocalCapacity = 8;

    private readonly QueryContext _context;
    private readonly QueryRunner _runner;
    private readonly SpscChannel<T>[] _channels;
    private readonly HashExchange<T, TKey> _exchange;
    private readonly ChannelWriter<T>[] _writers;
    private readonly string _name;
    private readonly Lock _gate = new();
    private readonly Dictionary<long, TaskCompletionSource<byte[][]>> _waiters = [];
    private readonly TaskCompletionSource<byte[][]> _final = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Thread? _sourceThread;
    private Thread[] _pumps = [];
    private int _pumping;
    private long _requested;
    private long _served;
    private bool _ended;
    private volatile TaskRunState _state = TaskRunState.Running;
    private volatile string? _error;

    public SourceTaskRun(IReadOnlyList<PhysicalStream<T>> inputs, bool partitioned, Action<T[], ulong[]?, TKey[], int> keyKernel, ExchangeProjection crossing, QueryContext context, TaskSpec spec, IGrainFactory grains, TimeProvider time)
    {
        var options = context.Options;
        // Dead letters of a task cannot be committed with the job's checkpoints yet: the first one fails the job with its reason
        // (FailingDeadLetters) instead of being lost (docs/cluster.md, limits).
        var taskOptions = options with { DeadLetters = null, Progress = null };
        _name = $"{spec.JobId}/{spec.Epoch}/{spec.Name}";
        int sources = TaskSpec.SourceTasksFor(inputs.Count, partitioned, spec.Parallelism);
        if (sources != spec.SourceCount || spec.SourceIndex < 0 || spec.SourceIndex >= sources)
        {
            throw new InvalidOperationException($"Task {_name} is source task {spec.SourceIndex} of {spec.SourceCount}; the query built on this silo has {sources} source tasks ({inputs.Count} inputs). Every silo must run the same build of the job's definition.");
        }

        _context = new QueryContext(taskOptions) { ParallelNodes = context.ParallelNodes };
        _channels = new SpscChannel<T>[spec.Parallelism];
        _writers = new ChannelWriter<T>[spec.Parallelism];
        for (int t = 0; t < _channels.Length; t++)
        {
            _channels[t] = new SpscChannel<T>(LocalCapacity, options.BatchSize);
            var sender = new ChannelSender(new TaskChannelTransport(grains.GetGrain<ITaskGrain>(spec.TaskKeys[t]), spec.Name), spec.Epoch, time, stopping: _stop.Token, stats: ExchangeStats.SourceToKeyed);
            // Only the members the keyed tasks read, when the plan allows (the keyed tasks pick the same codec).
            var codec = ColumnCodecs.ForEvents<T>(crossing, spec.Submission.ProjectExchange, out _, out _);
            _writers[t] = new ChannelWriter<T>(sender, new EventBatchCodec<T>(codec), options.BatchSize, spec.Submission.FrameLinger, time);
        }

        _exchange = new HashExchange<T, TKey>(_channels, keyKernel, options.KeyGroups, _context);
        if (partitioned)
        {
            // Always a union, also over one partition: its state is this task's share of the union over all partitions.
            var (first, end) = KeyGroups.RangeOf(spec.SourceIndex, inputs.Count, sources);
            var union = new Physical.Union.UnionOperator<T>(_exchange, _context, end - first);
            for (int i = first; i < end; i++)
            {
                _context.Wire(inputs[i], union.Input(i - first));
            }
        }
        else
        {
            inputs[0].Connect(_exchange, _context);
        }

        _runner = new QueryRunner(_context) { AfterStep = ServeBarrier, Wake = () => Volatile.Read(ref _wake).Task };
        if (spec.SourceState is { } parts)
        {
            var checkpointed = _context.Checkpointed;
            if (parts.Length != checkpointed.Count)
            {
                throw new InvalidDataException($"The checkpoint has {parts.Length} parts below the aggregate; the source task of job '{spec.JobId}' has {checkpointed.Count}.");
            }

            for (int i = 0; i < parts.Length; i++)
            {
                using var reader = new BinaryReader(new MemoryStream(parts[i], writable: false));
                checkpointed[i].ReadState(reader);
            }
        }
    }

    public TaskProgress Progress
    {
        get
        {
            long read = 0, late = 0, max = Temporal.Ticks.MinusInfinity;
            foreach (var source in _context.Sources.ToArray())
            {
                read += source.EventsRead;
                late += source.LateEvents;
                max = Math.Max(max, source.MaxEventTime);
            }

            return new TaskProgress(_state, read, late, max, _error);
        }
    }

    public void Start()
    {
        _pumping = _channels.Length;
        _pumps = new Thread[_channels.Length];
        for (int t = 0; t < _pumps.Length; t++)
        {
            int task = t;
            _pumps[t] = new Thread(() => Pump(task)) { IsBackground = true, Name = $"LinqStream {_name} to task {task}" };
            _pumps[t].Start();
        }

        _sourceThread = new Thread(RunSource) { IsBackground = true, Name = $"LinqStream {_name}" };
        _sourceThread.Start();
    }

    public bool Stop(TimeSpan timeout)
    {
        _stop.Cancel();
        _runner.Stop();
        foreach (var channel in _channels)
        {
            channel.Close();
        }

        return (_sourceThread?.Join(timeout) ?? true) && Array.TrueForAll(_pumps, p => p.Join(timeout));
    }

    /// <summary>Asks for barrier <paramref name="id"/>: answered with the parts' state when the source thread has sent it, or with the final state when the input ended first.</summary>
    public Task<byte[][]> BarrierAsync(long id)
    {
        TaskCompletionSource<byte[][]>? waiter;
        lock (_gate)
        {
            if (_ended)
            {
                return _final.Task;
            }

            if (!_waiters.TryGetValue(id, out waiter))
            {
                waiter = new(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters[id] = waiter;
            }
        }

        long current;
        while ((current = Volatile.Read(ref _requested)) < id && Interlocked.CompareExchange(ref _requested, id, current) != current)
        {
            // Another request raced this one: read again.
        }

        Volatile.Read(ref _wake).TrySetResult(); // a source thread waiting for data serves the barrier now
        return waiter.Task;
    }

    /// <summary>Gets the parts' state after the input ended.</summary>
    public Task<byte[][]> FinalStateAsync() => _final.Task;

    private void RunSource()
    {
        try
        {
            if (_context.Sources.Any(s => s.IsLive))
            {
                _runner.RunAsync(_stop.Token).GetAwaiter().GetResult();
            }
            else
            {
                _runner.Run();
            }
        }
        catch (Exception ex)
        {
            _exchange.OnError(ex); // in order with the data, to every keyed task
        }

        var final = Capture();
        List<TaskCompletionSource<byte[][]>> pending;
        lock (_gate)
        {
            _ended = true;
            pending = [.. _waiters.Values];
            _waiters.Clear();
        }

        _final.TrySetResult(final);
        foreach (var waiter in pending)
        {
            waiter.TrySetResult(final);
        }
    }

    /// <summary>On the source thread, between two steps: writes the parts, answers the coordinator, then sends the barrier after the data.</summary>
    private void ServeBarrier()
    {
        long requested = Volatile.Read(ref _requested);
        if (requested <= _served)
        {
            return;
        }

        _served = requested;
        // A full fence between the new wake and the second look at the request (a plain store may pass the load), so a request
        // made meanwhile either is seen here or completes the new wake.
        Interlocked.Exchange(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (Volatile.Read(ref _requested) != requested)
        {
            _wake.TrySetResult();
        }

        var parts = Capture();
        TaskCompletionSource<byte[][]>? waiter;
        lock (_gate)
        {
            _waiters.Remove(requested, out waiter);
        }

        _exchange.SendBarrier(requested);
        waiter?.TrySetResult(parts);
    }

    private byte[][] Capture()
    {
        var parts = _context.Checkpointed;
        var data = new byte[parts.Count][];
        for (int i = 0; i < parts.Count; i++)
        {
            using var buffer = new MemoryStream();
            using (var writer = new BinaryWriter(buffer))
            {
                parts[i].WriteState(writer);
            }

            data[i] = buffer.ToArray();
        }

        return data;
    }

    /// <summary>
    /// Sends keyed task <paramref name="task"/>'s local channel, in order, on its cross-silo channel. One thread per channel, as in
    /// process each channel is its own: a keyed task held at a barrier (the merge waits for the others) holds back only its own
    /// channel, never the barrier of another.
    /// </summary>
    private void Pump(int task)
    {
        var channel = _channels[task];
        var writer = _writers[task];
        var token = _stop.Token;
        try
        {
            while (writer.NextMessage(channel, token) is { } slot)
            {
                switch (slot.Kind)
                {
                    case ChannelMessage.Batch:
                        writer.AddAsync(slot.Batch, token).AsTask().GetAwaiter().GetResult();
                        channel.Release();
                        break;
                    case ChannelMessage.Watermark:
                        writer.AddWatermark(slot.Value);
                        channel.Release();
                        break;
                    case ChannelMessage.Barrier:
                        long barrier = slot.Value;
                        channel.Release();
                        writer.SendBarrierAsync(barrier, token).AsTask().GetAwaiter().GetResult();
                        break;
                    case ChannelMessage.Completed:
                        channel.Release();
                        writer.CompleteAsync(token).AsTask().GetAwaiter().GetResult();
                        PumpEnded();
                        return;
                    default:
                        string message = slot.Error?.Message ?? "The source task failed.";
                        channel.Release();
                        writer.SendErrorAsync(message, token).AsTask().GetAwaiter().GetResult();
                        writer.Sender.FlushAsync(token).AsTask().GetAwaiter().GetResult();
                        PumpEnded();
                        return;
                }
            }
        }
        catch (Exception ex) when (!token.IsCancellationRequested)
        {
            // A channel refused this task (a newer epoch, a receiver that lost its state) or its calls failed for good: the
            // coordinator sees Failed at its next poll and rolls the job back.
            _error = $"{ex.GetType().Name}: {ex.Message}";
            _state = TaskRunState.Failed;
            _stop.Cancel();
            _runner.Stop();
            foreach (var other in _channels)
            {
                other.Close();
            }
        }
        catch (Exception) when (token.IsCancellationRequested)
        {
            // Stopped.
        }
    }

    private void PumpEnded()
    {
        if (Interlocked.Decrement(ref _pumping) == 0 && _state == TaskRunState.Running)
        {
            _state = TaskRunState.Ended;
        }
    }

}
