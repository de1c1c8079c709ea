using System.Collections.Concurrent;
using LinqStream.Orleans.Channels;
using LinqStream.Parallel;
using LinqStream.Runtime;
using LinqStream.Runtime.Checkpoints;

namespace LinqStream.Orleans.Tasks;

/// <summary>
/// A keyed task of a job spread over silos: the keyed window aggregate over the key groups of its range, fed by the source
/// tasks' cross-silo channels, its output sent to the merge on the coordinator's silo. On barrier n it writes its key groups
/// (the same slice a task of <see cref="KeyedParallelRun{T, TKey, TResult}"/> writes) and sends them with the barrier, after
/// its output before it; at the end it sends its final key groups with its completion.
/// </summary>
/// <remarks>
/// With several source tasks (a union of partitions) the task unions their channels in (start, source task) order, as a task
/// of <see cref="KeyedParallelRun{T, TKey, TResult}"/> does: it takes a few frames from each channel in turn, waits only when
/// every channel is empty or held, and holds a channel whose barrier came until every open channel's has (aligned); then it
/// writes its key groups and what its union holds (sent with the barrier) and passes the barrier on.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "Its token source is cancelled by Stop and never disposed: threads still ending may register on it, and without a timer it holds nothing to release.")]
internal sealed class KeyedTaskRun<T, TResult> : ITaskRun
{
    private const int LocalCapacity = 8;

    private readonly QueryContext _context;
    private readonly IStreamObserver<T>[] _inputs; // per source task: the union's input, or the operator itself with one source task
    private readonly Physical.Union.UnionOperator<T>? _union;
    private readonly SpscChannel<TResult> _output;
    private readonly ForwardExchange<TResult> _forward;
    private readonly IKeyGroupedState _keyed;
    private readonly (int First, int End) _range;
    private readonly ChannelReceiver[] _receivers;
    private readonly EventBatchCodec<T> _input;
    private readonly ChannelWriter<TResult> _writer;
    private readonly string _name;
    private readonly ConcurrentDictionary<long, byte[]> _states = new();
    private readonly TaskCompletionSource<byte[]> _final = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private Thread? _taskThread;
    private Thread? _pumpThread;
    private volatile TaskRunState _state = TaskRunState.Running;
    private volatile string? _error;

    public KeyedTaskRun(
        Func<IStreamObserver<TResult>, QueryContext, IStreamObserver<T>> createOperator,
        ExchangeProjection crossing,
        QueryContext context,
        TaskSpec spec,
        string self,
        IGrainFactory grains,
        ChannelHub hub,
        TimeProvider time)
    {
        var options = context.Options;
        var taskOptions = options with { DeadLetters = null, Progress = null }; // see SourceTaskRun: a dead letter fails the job
        _name = $"{spec.JobId}/{spec.Epoch}/{spec.Name}";
        _context = new QueryContext(taskOptions) { ParallelNodes = context.ParallelNodes, KeyedState = context.KeyedState };
        _output = new SpscChannel<TResult>(LocalCapacity, options.BatchSize);
        _forward = new ForwardExchange<TResult>(_output, _context);
        var head = createOperator(_forward, _context);
        int sources = spec.SourceCount;
        _inputs = new IStreamObserver<T>[sources];
        if (sources == 1)
        {
            _inputs[0] = head;
        }
        else
        {
            _union = new Physical.Union.UnionOperator<T>(head, _context, sources);
            for (int s = 0; s < sources; s++)
            {
                _inputs[s] = _union.Input(s);
            }
        }

        _range = KeyGroups.RangeOf(spec.Index, options.KeyGroups, spec.Parallelism);
        var parts = _context.Checkpointed.Where(p => p != _union).ToArray();
        _keyed = parts is [IKeyGroupedState { IsKeyGrouped: true } keyed]
            ? keyed
            : throw new InvalidOperationException($"Task {_name} has {parts.Length} stateful parts; a job spread over silos needs exactly one keyed aggregate per task.");
        _receivers = new ChannelReceiver[sources];
        for (int s = 0; s < sources; s++)
        {
            _receivers[s] = hub.Find(self, TaskSpec.SourceName(s, sources)) ?? throw new InvalidOperationException($"Task {_name} has no open input channel '{TaskSpec.SourceName(s, sources)}' on this silo.");
        }

        // The events carry only the members the aggregate reads when the plan allows (the source tasks send with the same codec);
        // the others are at their defaults, which nothing on this task reads.
        _input = new EventBatchCodec<T>(ColumnCodecs.ForEvents<T>(crossing, spec.Submission.ProjectExchange, out _, out _));
        var sender = new ChannelSender(new TaskChannelTransport(grains.GetGrain<ITaskGrain>(spec.MergeKey), spec.Name), spec.Epoch, time, stopping: _stop.Token, stats: ExchangeStats.KeyedToMerge);
        _writer = new ChannelWriter<TResult>(sender, new EventBatchCodec<TResult>(ColumnCodecs.For<TResult>()), options.BatchSize, spec.Submission.FrameLinger, time);
        if (spec.AggregateState is { } aggregate)
        {
            using var reader = new BinaryReader(new MemoryStream(aggregate, writable: false));
            var section = KeyGroupedSection.Read(reader, options.KeyGroups, _keyed.CheckpointName);
            _keyed.ReadKeyGroups(section, _range.First, _range.End);
        }

        if (_union is not null && spec.UnionWatermark is { } watermark)
        {
            _union.RestoreState(CanonicalUnion.TaskShare<T>(watermark, sources)); // the source tasks send again what it held
        }
    }

    public TaskProgress Progress => new(_state, 0, 0, Temporal.Ticks.MinusInfinity, _error);

    public void Start()
    {
        _pumpThread = new Thread(Pump) { IsBackground = true, Name = $"LinqStream {_name} pump" };
        _taskThread = new Thread(Run) { IsBackground = true, Name = $"LinqStream {_name}" };
        _pumpThread.Start();
        _taskThread.Start();
    }

    public bool Stop(TimeSpan timeout)
    {
        _stop.Cancel();
        _output.Close();
        return (_taskThread?.Join(timeout) ?? true) && (_pumpThread?.Join(timeout) ?? true);
    }

    /// <summary>
    /// The task's thread: each source task's frames, in order, into the aggregate (through the union with several). Takes up to
    /// a channel's capacity of frames from each in turn; a channel whose barrier came is held until every open channel's has.
    /// </summary>
    private void Run()
    {
        var pool = _context.Pool<T>();
        var token = _stop.Token;
        int count = _receivers.Length;
        var open = new bool[count];
        var held = new bool[count];
        Array.Fill(open, true);
        int remaining = count, holding = 0;
        long barrier = 0;
        var waits = new List<Task>(count);
        try
        {
            while (remaining > 0)
            {
                bool received = false;
                for (int s = 0; s < count; s++)
                {
                    if (!open[s] || held[s])
                    {
                        continue;
                    }

                    var receiver = _receivers[s];
                    for (int n = 0; n < receiver.Capacity && receiver.TryTake(out var frame); n++)
                    {
                        received = true;
                        if (frame.Kind == ChannelFrameKind.Barrier)
                        {
                            held[s] = true;
                            holding++;
                            barrier = frame.Value;
                            break;
                        }

                        if (!Deliver(receiver, frame, _inputs[s], pool))
                        {
                            open[s] = false;
                            remaining--;
                            if (frame.Kind == ChannelFrameKind.Error)
                            {
                                return; // the error went downstream (through the union), once
                            }

                            break;
                        }
                    }
                }

                if (holding > 0 && holding == remaining)
                {
                    Align(barrier, held);
                    holding = 0;
                    continue;
                }

                if (!received)
                {
                    waits.Clear();
                    for (int s = 0; s < count; s++)
                    {
                        if (open[s] && !held[s])
                        {
                            waits.Add(_receivers[s].WaitForFrameAsync(token));
                        }
                    }

                    Task.WhenAny(waits).GetAwaiter().GetResult();
                    token.ThrowIfCancellationRequested();
                }
            }

            // Every source task completed (the union, if any, completed the aggregate): the final key groups go with the completion.
            _final.TrySetResult(SliceCodec.Write(_keyed.WriteKeyGroups(_range.First, _range.End, _context.Options.KeyGroups), UnionState()));
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopped.
        }
        catch (Exception ex)
        {
            _forward.OnError(ex); // a frame it cannot read, an operator that failed: in order, to the merge and the job
        }
    }

    /// <summary>Pushes one frame into the task's input for its source task; false when that source task is done (completed or failed).</summary>
    private bool Deliver(ChannelReceiver receiver, ChannelFrame frame, IStreamObserver<T> input, BatchPool<T> pool)
    {
        switch (frame.Kind)
        {
            case ChannelFrameKind.Batch:
                var batch = pool.Rent();
                try
                {
                    _input.Decode(receiver.Name, frame, batch);
                }
                catch
                {
                    pool.Return(batch);
                    throw;
                }
                finally
                {
                    frame.Release(); // decoded into the batch: the frame's array goes back to the pool
                }

                input.OnBatch(batch);
                if (frame.WatermarkAfter)
                {
                    input.OnWatermark(frame.Value); // a coalesced frame's watermark, after its events
                }

                return true;
            case ChannelFrameKind.Watermark:
                input.OnWatermark(frame.Value);
                return true;
            case ChannelFrameKind.Completed:
                input.OnCompleted();
                return false;
            case ChannelFrameKind.Error:
                input.OnError(new RemoteTaskException($"A source task of {_name} failed: {System.Text.Encoding.UTF8.GetString(frame.Payload)}"));
                return false;
            default:
                throw new InvalidDataException($"Channel '{receiver.Name}' received frame {frame.Sequence} of epoch {frame.Epoch} of unknown kind {(byte)frame.Kind}.");
        }
    }

    /// <summary>Every open channel is at barrier <paramref name="id"/>: everything before it is folded in, so write, release, pass on.</summary>
    private void Align(long id, bool[] held)
    {
        var slice = _keyed.WriteKeyGroups(_range.First, _range.End, _context.Options.KeyGroups);
        _states[id] = SliceCodec.Write(slice, UnionState());
        foreach (var part in _context.Operators)
        {
            // A local step after the aggregate (q5's per-task maximum) ships what it holds before the barrier: no state of its own.
            (part as Parallel.TwoPhase.IFlushAtBarrier)?.FlushAtBarrier();
        }

        Array.Clear(held);
        _forward.SendBarrier(id);
    }

    /// <summary>What the task's union holds (events of the source tasks not yet folded in), as bytes; null with one source task.</summary>
    private byte[]? UnionState()
    {
        if (_union is null)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer))
        {
            _union.WriteState(writer);
        }

        return buffer.ToArray();
    }

    /// <summary>Sends the task's output, in order, to the merge; a barrier carries the key groups written at it, the completion the final ones.</summary>
    private void Pump()
    {
        var token = _stop.Token;
        try
        {
            while (_writer.NextMessage(_output, token) is { } slot)
            {
                switch (slot.Kind)
                {
                    case ChannelMessage.Batch:
                        _writer.AddAsync(slot.Batch, token).AsTask().GetAwaiter().GetResult();
                        _output.Release();
                        break;
                    case ChannelMessage.Watermark:
                        _writer.AddWatermark(slot.Value);
                        _output.Release();
                        break;
                    case ChannelMessage.Barrier:
                        long id = slot.Value;
                        _output.Release();
                        _states.TryRemove(id, out var state);
                        var barrier = new ChannelFrame { Kind = ChannelFrameKind.Barrier, Value = id, Payload = state ?? [] };
                        _writer.SendAfterOpenAsync(barrier, token).AsTask().GetAwaiter().GetResult();
                        break;
                    case ChannelMessage.Completed:
                        _output.Release();
                        var final = _final.Task.WaitAsync(token).GetAwaiter().GetResult();
                        _writer.SendAfterOpenAsync(new ChannelFrame { Kind = ChannelFrameKind.Completed, Payload = final }, token).AsTask().GetAwaiter().GetResult();
                        _writer.Sender.FlushAsync(token).AsTask().GetAwaiter().GetResult();
                        _state = TaskRunState.Ended;
                        return;
                    default:
                        string message = slot.Error?.Message ?? $"Task {_name} failed.";
                        _output.Release();
                        _writer.SendErrorAsync($"{_name}: {message}", token).AsTask().GetAwaiter().GetResult();
                        _writer.Sender.FlushAsync(token).AsTask().GetAwaiter().GetResult();
                        _state = TaskRunState.Ended;
                        return;
                }
            }
        }
        catch (Exception ex) when (!token.IsCancellationRequested)
        {
            _error = $"{ex.GetType().Name}: {ex.Message}";
            _state = TaskRunState.Failed;
            _stop.Cancel();
            _output.Close(); // the task's thread may wait for room in it
        }
        catch (Exception) when (token.IsCancellationRequested)
        {
            // Stopped.
        }
    }
}
