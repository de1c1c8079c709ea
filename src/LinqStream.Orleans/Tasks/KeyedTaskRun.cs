using System.Collections.Concurrent;
using LinqStream.Orleans.Channels;
using LinqStream.Parallel;
using LinqStream.Runtime;
using LinqStream.Runtime.Checkpoints;

namespace LinqStream.Orleans.Tasks;

/// <summary>
/// A keyed task of a job spread over silos: the keyed window aggregate over the key groups of its range, fed by the source
/// task's cross-silo channel, its output sent to the merge on the coordinator's silo. On barrier n it writes its key groups
/// (the same slice a task of <see cref="KeyedParallelRun{T, TKey, TResult}"/> writes) and sends them with the barrier, after
/// its output before it; at the end it sends its final key groups with its completion.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "Its token source is cancelled by Stop and never disposed: threads still ending may register on it, and without a timer it holds nothing to release.")]
internal sealed class KeyedTaskRun<T, TResult> : ITaskRun
{
    private const int LocalCapacity = 8;

    private readonly QueryContext _context;
    private readonly IStreamObserver<T> _head;
    private readonly SpscChannel<TResult> _output;
    private readonly ForwardExchange<TResult> _forward;
    private readonly IKeyGroupedState _keyed;
    private readonly (int First, int End) _range;
    private readonly ChannelReceiver _receiver;
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
        _head = createOperator(_forward, _context);
        _range = KeyGroups.RangeOf(spec.Index, options.KeyGroups, spec.Parallelism);
        var parts = _context.Checkpointed;
        _keyed = parts is [IKeyGroupedState { IsKeyGrouped: true } keyed]
            ? keyed
            : throw new InvalidOperationException($"Task {_name} has {parts.Count} stateful parts; a job spread over silos needs exactly one keyed aggregate per task.");
        _receiver = hub.Find(self, "source") ?? throw new InvalidOperationException($"Task {_name} has no open input channel on this silo.");
        _input = new EventBatchCodec<T>(ColumnCodecs.For<T>());
        var sender = new ChannelSender(new TaskChannelTransport(grains.GetGrain<ITaskGrain>(spec.MergeKey), spec.Name), spec.Epoch, time);
        _writer = new ChannelWriter<TResult>(sender, new EventBatchCodec<TResult>(ColumnCodecs.For<TResult>()));
        if (spec.AggregateState is { } aggregate)
        {
            using var reader = new BinaryReader(new MemoryStream(aggregate, writable: false));
            var section = KeyGroupedSection.Read(reader, options.KeyGroups, _keyed.CheckpointName);
            _keyed.ReadKeyGroups(section, _range.First, _range.End);
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

    /// <summary>The task's thread: the source task's frames, in order, into the aggregate.</summary>
    private void Run()
    {
        BarrierEpoch.Passed(0);
        var pool = _context.Pool<T>();
        var token = _stop.Token;
        try
        {
            while (true)
            {
                if (!_receiver.TryTake(out var frame))
                {
                    _receiver.WaitForFrameAsync(token).GetAwaiter().GetResult();
                    continue;
                }

                switch (frame.Kind)
                {
                    case ChannelFrameKind.Batch:
                        var batch = pool.Rent();
                        try
                        {
                            _input.Decode(_receiver.Name, frame, batch);
                        }
                        catch
                        {
                            pool.Return(batch);
                            throw;
                        }

                        _head.OnBatch(batch);
                        break;
                    case ChannelFrameKind.Watermark:
                        _head.OnWatermark(frame.Value);
                        break;
                    case ChannelFrameKind.Barrier:
                        // Everything before the barrier is folded in: write the key groups, then pass the barrier on after the output before it.
                        _states[frame.Value] = SliceCodec.Write(_keyed.WriteKeyGroups(_range.First, _range.End, _context.Options.KeyGroups));
                        BarrierEpoch.Passed(frame.Value);
                        _forward.SendBarrier(frame.Value);
                        break;
                    case ChannelFrameKind.Completed:
                        _head.OnCompleted();
                        _final.TrySetResult(SliceCodec.Write(_keyed.WriteKeyGroups(_range.First, _range.End, _context.Options.KeyGroups)));
                        return;
                    case ChannelFrameKind.Error:
                        _head.OnError(new RemoteTaskException($"The source task of {_name} failed: {System.Text.Encoding.UTF8.GetString(frame.Payload)}"));
                        return;
                    default:
                        throw new InvalidDataException($"Channel '{_receiver.Name}' received frame {frame.Sequence} of epoch {frame.Epoch} of unknown kind {(byte)frame.Kind}.");
                }
            }
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

    /// <summary>Sends the task's output, in order, to the merge; a barrier carries the key groups written at it, the completion the final ones.</summary>
    private void Pump()
    {
        var token = _stop.Token;
        try
        {
            while (_output.Peek() is { } slot)
            {
                switch (slot.Kind)
                {
                    case ChannelMessage.Batch:
                        _writer.SendBatchAsync(slot.Batch, token).AsTask().GetAwaiter().GetResult();
                        _output.Release();
                        break;
                    case ChannelMessage.Watermark:
                        long watermark = slot.Value;
                        _output.Release();
                        _writer.SendWatermarkAsync(watermark, token).AsTask().GetAwaiter().GetResult();
                        break;
                    case ChannelMessage.Barrier:
                        long id = slot.Value;
                        _output.Release();
                        _states.TryRemove(id, out var state);
                        var barrier = new ChannelFrame { Kind = ChannelFrameKind.Barrier, Value = id, Payload = state ?? [] };
                        _writer.Sender.SendAsync(barrier, token).AsTask().GetAwaiter().GetResult();
                        break;
                    case ChannelMessage.Completed:
                        _output.Release();
                        var final = _final.Task.WaitAsync(token).GetAwaiter().GetResult();
                        _writer.Sender.SendAsync(new ChannelFrame { Kind = ChannelFrameKind.Completed, Payload = final }, token).AsTask().GetAwaiter().GetResult();
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
