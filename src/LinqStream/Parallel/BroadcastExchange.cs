using LinqStream.Runtime;
using LinqStream.Runtime.Checkpoints;

namespace LinqStream.Parallel;

/// <summary>A join run on each task of a broadcast plan: its two inputs, its state, and how many events it holds.</summary>
/// <typeparam name="TLeft">The split keyed aggregate's results.</typeparam>
/// <typeparam name="TRight">The small side's rows.</typeparam>
internal interface ITaskJoin<TLeft, TRight>
{
    IStreamObserver<TLeft> Left { get; }

    IStreamObserver<TRight> Right { get; }

    /// <summary>Gets the join's checkpointed state (parallelism 1's section).</summary>
    ICheckpointed State { get; }

    /// <summary>Gets the number of events waiting for their window to be joined (zero at an aligned barrier).</summary>
    int Waiting { get; }
}

/// <summary>Builds the join of a broadcast plan in a task's context (<see cref="Physical.Join.Window.WindowJoinStream{TLeft, TRight, TKey, TResult}"/>).</summary>
internal interface IBroadcastJoin<TLeft, TRight, TOut>
{
    ITaskJoin<TLeft, TRight> CreateTaskJoin(IStreamObserver<TOut> downstream, QueryContext context);
}

/// <summary>The small side of a broadcast plan: a whole-window aggregate over the keyed aggregate's (shared) input.</summary>
internal interface IBroadcastSmallSide<T, TRight>
{
    /// <summary>Gets its input: the multicast the keyed aggregate's input also passes through.</summary>
    PhysicalStream<T> SmallSideInput { get; }

    /// <summary>Builds parallelism 1's operator in <paramref name="context"/>, without its input.</summary>
    IStreamObserver<T> CreateOperator(IStreamObserver<TRight> downstream, QueryContext context);
}

/// <summary>
/// A keyed aggregate that may run with a broadcast exchange: its input also feeds a small side, whose rows every task joins to its
/// share of the keyed results.
/// </summary>
internal interface IBroadcastKeyedNode<TLeft>
{
    void ConnectBroadcast<TRight, TOut>(IBroadcastJoin<TLeft, TRight, TOut> join, PhysicalStream<TRight> small, IStreamObserver<TOut> downstream, QueryContext context);
}

/// <summary>
/// What a <see cref="KeyedParallelRun{T, TX, TKey, TResult}"/> with a broadcast exchange runs besides the keyed aggregate
/// (docs/parallelism.md, "The broadcast exchange"): the small side on the source task, sending its rows to every task on a second
/// channel per (source task, task); a join on every task after its keyed aggregate; and the join's checkpoint section.
/// </summary>
/// <typeparam name="T">The events the source tasks read.</typeparam>
internal abstract class BroadcastSide<T>
{
    /// <summary>Gets the part that stands in the query's checkpoint list where parallelism 1's join is: it writes the tasks' (empty) join.</summary>
    public abstract ICheckpointed JoinPart { get; }

    /// <summary>Makes task <paramref name="task"/>'s broadcast channels (before the task's operators are built).</summary>
    public abstract void AddTask(int task, int sources, int capacity, int batchSize, ConsumerSignal signal, QueryContext taskContext, bool spin);

    /// <summary>Builds the small side on source task <paramref name="source"/>, after its input was wired (so its state comes where parallelism 1 lists it).</summary>
    public abstract void WireSource(int source, QueryContext sourceContext);

    /// <summary>Sends barrier <paramref name="id"/> from source task <paramref name="source"/> to every task's broadcast channel.</summary>
    public abstract void SendBarrier(int source, long id);

    /// <summary>Sends source task <paramref name="source"/>'s failure to every task's broadcast channel.</summary>
    public abstract void FailSource(int source, Exception error);

    /// <summary>Closes every broadcast channel (the run stopped).</summary>
    public abstract void Close();

    /// <summary>Gets task <paramref name="task"/>'s broadcast input (its channels, read by the task's loop).</summary>
    public abstract BroadcastTaskInput TaskInput(int task);

    /// <summary>Whether <paramref name="part"/> is the join's state on task <paramref name="task"/> (not the keyed aggregate).</summary>
    public abstract bool IsTaskPart(int task, ICheckpointed part);

    /// <summary>Task <paramref name="task"/> is aligned at barrier <paramref name="id"/>: captures its join's state (which must be empty) and releases its broadcast barriers.</summary>
    public abstract void AtBarrier(int task, long id);

    /// <summary>Called by the run once it is built (the join part asks it whether it is aligned, and waits for its threads at the end).</summary>
    public abstract void Attach(IParallelCheckpoint checkpoint, IParallelRun run);
}

/// <summary>
/// A task's broadcast channels, one per source task, read in the task's loop like its hash channels: it takes what is there (a ring's
/// worth per channel at most), holds a channel whose barrier has come, and never waits on one channel.
/// </summary>
internal abstract class BroadcastTaskInput
{
    /// <summary>Gets the channels still open.</summary>
    public int Remaining { get; protected set; }

    /// <summary>Gets the channels held at a barrier.</summary>
    public int Holding { get; protected set; }

    /// <summary>Gets the last barrier seen.</summary>
    public long Barrier { get; protected set; }

    /// <summary>Gets a value indicating whether a channel brought an error (it went into the join, which passed it on).</summary>
    public bool Failed { get; protected set; }

    /// <summary>Delivers what is there; true when anything was taken.</summary>
    public abstract bool Pump();

    /// <summary>Whether a message waits on an open channel that is not held, or a channel was closed.</summary>
    public abstract bool HasMessage();

    /// <summary>Gets a value indicating whether a channel was closed (the run stopped).</summary>
    public abstract bool AnyClosed { get; }

    /// <summary>Releases the held barriers (the task is aligned).</summary>
    public abstract void ReleaseHeld();
}

/// <summary>One broadcast input per task over channels of <typeparamref name="TRight"/>, delivering into the task's join (one source task).</summary>
internal sealed class BroadcastTaskInput<TRight> : BroadcastTaskInput
{
    private readonly SpscChannel<TRight>[] _channels;
    private readonly IStreamObserver<TRight> _input;
    private readonly BatchPool<TRight> _pool;
    private readonly bool[] _open;
    private readonly bool[] _held;

    public BroadcastTaskInput(SpscChannel<TRight>[] channels, IStreamObserver<TRight> input, BatchPool<TRight> pool)
    {
        _channels = channels;
        _input = input;
        _pool = pool;
        _open = new bool[channels.Length];
        Array.Fill(_open, true);
        _held = new bool[channels.Length];
        Remaining = channels.Length;
    }

    public override bool AnyClosed => Array.Exists(_channels, c => c.IsClosed);

    public override bool Pump()
    {
        bool received = false;
        for (int s = 0; s < _channels.Length; s++)
        {
            if (!_open[s] || _held[s])
            {
                continue;
            }

            var channel = _channels[s];
            for (int n = 0; n < channel.Capacity && channel.TryPeek() is { } slot; n++)
            {
                received = true;
                if (slot.Kind == ChannelMessage.Barrier)
                {
                    _held[s] = true;
                    Holding++;
                    Barrier = slot.Value;
                    break;
                }

                if (!ChannelDelivery.Deliver(channel, slot, _input, _pool))
                {
                    _open[s] = false;
                    Remaining--;
                    Failed |= slot.Kind == ChannelMessage.Error;
                    break;
                }
            }
        }

        return received;
    }

    public override bool HasMessage()
    {
        for (int s = 0; s < _channels.Length; s++)
        {
            if ((_open[s] && !_held[s] && _channels[s].TryPeek() is not null) || _channels[s].IsClosed)
            {
                return true;
            }
        }

        return false;
    }

    public override void ReleaseHeld()
    {
        for (int s = 0; s < _channels.Length; s++)
        {
            if (_held[s])
            {
                _held[s] = false;
                _channels[s].Release();
            }
        }

        Holding = 0;
    }
}

/// <summary>Delivers one channel message into an observer (shared by a task's hash and broadcast channels).</summary>
internal static class ChannelDelivery
{
    /// <summary>Pushes the message in <paramref name="slot"/> into <paramref name="input"/> and frees the slot; false when the channel is done (completed or failed).</summary>
    public static bool Deliver<TM>(SpscChannel<TM> channel, SpscChannel<TM>.Slot slot, IStreamObserver<TM> input, BatchPool<TM> pool)
    {
        switch (slot.Kind)
        {
            case ChannelMessage.Batch:
                var batch = pool.Rent();
                SpscChannel<TM>.SwapColumns(slot.Batch, batch);
                channel.Release();
                input.OnBatch(batch);
                return true;
            case ChannelMessage.Watermark:
                long watermark = slot.Value;
                channel.Release();
                input.OnWatermark(watermark);
                return true;
            case ChannelMessage.Completed:
                channel.Release();
                input.OnCompleted();
                return false;
            default:
                var error = slot.Error!;
                channel.Release();
                input.OnError(error);
                return false;
        }
    }
}

/// <summary>
/// The sending end of a broadcast exchange, on a source task: every row, watermark, barrier, completion and error of the small side
/// goes to every task's broadcast channel (a pooled copy for all but the last, which gets the batch's columns). Per row, not per
/// event: the small side gives one row per window.
/// </summary>
internal sealed class BroadcastExchange<TRight> : IStreamObserver<TRight>
{
    private readonly SpscChannel<TRight>[] _channels;
    private readonly BatchPool<TRight> _pool;
    private bool _done;

    public BroadcastExchange(SpscChannel<TRight>[] channels, QueryContext context)
    {
        _channels = channels;
        _pool = context.Pool<TRight>();
    }

    public void OnBatch(EventBatch<TRight> batch)
    {
        try
        {
            if (_done || batch.Count == 0)
            {
                return;
            }

            for (int t = 0; t < _channels.Length - 1 && !_done; t++)
            {
                var copy = _pool.RentCopyOf(batch);
                _done = !_channels[t].SendBatch(copy);
                _pool.Return(copy);
            }

            if (!_done)
            {
                _done = !_channels[^1].SendBatch(batch);
            }
        }
        finally
        {
            _pool.Return(batch);
        }
    }

    public void OnWatermark(long watermark)
    {
        for (int t = 0; t < _channels.Length && !_done; t++)
        {
            _done = !_channels[t].SendWatermark(watermark);
        }
    }

    public void SendBarrier(long id)
    {
        for (int t = 0; t < _channels.Length && !_done; t++)
        {
            _done = !_channels[t].SendBarrier(id);
        }
    }

    public void OnCompleted() => End(null);

    public void OnError(Exception error) => End(error);

    /// <summary>Sends completion (or <paramref name="error"/>) to every task, once.</summary>
    private void End(Exception? error)
    {
        if (_done)
        {
            return;
        }

        _done = true;
        foreach (var channel in _channels)
        {
            _ = error is null ? channel.SendCompleted() : channel.SendError(error);
        }
    }
}

/// <summary>
/// The broadcast side of a keyed aggregate's run: the small side (<typeparamref name="TRight"/> rows, parallelism 1's whole-window
/// operator on the one source task), a broadcast channel per task, and a join (<typeparamref name="TLeft"/> results with the rows, giving
/// <typeparamref name="TOut"/>) on every task. The join holds nothing at an aligned barrier (both its inputs have had the same
/// watermarks, and a window's results and row come out only once the watermark closes it): its section is parallelism 1's, written
/// from task 0 and checked empty on every task; restored into every task (only an empty one: a non-empty join cannot be split by key).
/// </summary>
internal sealed class BroadcastSide<T, TLeft, TRight, TOut> : BroadcastSide<T>
{
    private readonly IBroadcastJoin<TLeft, TRight, TOut> _join;
    private readonly IBroadcastSmallSide<T, TRight> _small;
    private readonly List<SpscChannel<TRight>[]> _channels = []; // [task][source task]
    private readonly List<ITaskJoin<TLeft, TRight>> _joins = [];
    private readonly List<BroadcastTaskInput<TRight>> _inputs = [];
    private readonly List<QueryContext> _taskContexts = [];
    private readonly List<BroadcastExchange<TRight>> _exchanges = [];
    private Captured?[] _captured = [];
    private IParallelCheckpoint? _checkpoint;
    private IParallelRun? _run;

    public BroadcastSide(IBroadcastJoin<TLeft, TRight, TOut> join, IBroadcastSmallSide<T, TRight> small)
    {
        _join = join;
        _small = small;
        JoinPart = new JoinStatePart(this);
    }

    public override ICheckpointed JoinPart { get; }

    public override void AddTask(int task, int sources, int capacity, int batchSize, ConsumerSignal signal, QueryContext taskContext, bool spin)
    {
        if (sources != 1 || task != _channels.Count)
        {
            throw new InvalidOperationException($"A broadcast exchange runs with one source task, its tasks added in order (task {task}, {sources} source tasks).");
        }

        var channels = new SpscChannel<TRight>[sources];
        for (int s = 0; s < sources; s++)
        {
            channels[s] = new SpscChannel<TRight>(capacity, batchSize, signal) { SpinBeforeBlocking = spin };
        }

        _channels.Add(channels);
        _taskContexts.Add(taskContext);
    }

    /// <summary>Builds the join on the task last added (its keyed aggregate's downstream) and returns its left input.</summary>
    public IStreamObserver<TLeft> TaskLeft(IStreamObserver<TOut> output, QueryContext taskContext)
    {
        int task = _joins.Count;
        if (task >= _channels.Count || _taskContexts[task] != taskContext)
        {
            throw new InvalidOperationException("A broadcast task's join is built right after its channels.");
        }

        var join = _join.CreateTaskJoin(output, taskContext);
        _joins.Add(join);
        _inputs.Add(new BroadcastTaskInput<TRight>(_channels[task], join.Right, taskContext.Pool<TRight>()));
        return join.Left;
    }

    public override void WireSource(int source, QueryContext sourceContext)
    {
        var channels = new SpscChannel<TRight>[_channels.Count];
        for (int t = 0; t < channels.Length; t++)
        {
            channels[t] = _channels[t][source];
        }

        var exchange = new BroadcastExchange<TRight>(channels, sourceContext);
        _exchanges.Add(exchange);
        sourceContext.Wire(_small.SmallSideInput, _small.CreateOperator(exchange, sourceContext));
    }

    public override void SendBarrier(int source, long id) => _exchanges[source].SendBarrier(id);

    public override void FailSource(int source, Exception error) => _exchanges[source].OnError(error);

    public override void Close()
    {
        foreach (var channels in _channels)
        {
            foreach (var channel in channels)
            {
                channel.Close();
            }
        }
    }

    public override BroadcastTaskInput TaskInput(int task) => _inputs[task];

    public override bool IsTaskPart(int task, ICheckpointed part) => ReferenceEquals(part, _joins[task].State);

    public override void AtBarrier(int task, long id)
    {
        var join = _joins[task];
        if (join.Waiting != 0)
        {
            throw new InvalidOperationException(
                $"Task {task + 1}'s {join.State.CheckpointName} holds {join.Waiting} events at the aligned checkpoint barrier {id}; a join behind a broadcast exchange must hold none there (its inputs have had the same watermarks).");
        }

        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer))
        {
            join.State.WriteState(writer);
        }

        Volatile.Write(ref _captured[task], new Captured(id, buffer.ToArray()));
        _inputs[task].ReleaseHeld();
    }

    public override void Attach(IParallelCheckpoint checkpoint, IParallelRun run)
    {
        _checkpoint = checkpoint;
        _run = run;
        _captured = new Captured?[_joins.Count];
    }

    /// <summary>Writes the join's section: at an aligned barrier what task 0 captured there (every task's was checked empty), otherwise
    /// (before the tasks start, or after they ended) task 0's join as it is.</summary>
    private void WriteJoin(BinaryWriter writer)
    {
        if (_checkpoint is { IsAligned: true })
        {
            var captured = new Captured?[_captured.Length];
            for (int t = 0; t < captured.Length; t++)
            {
                captured[t] = Volatile.Read(ref _captured[t]);
            }

            long id = captured.Max(c => c?.Id ?? 0);
            writer.Write(Array.Find(captured, c => c?.Id == id)!.State);
            return;
        }

        if (_run is { } run && !run.Join(TimeSpan.FromSeconds(30)))
        {
            throw new InvalidOperationException("The parallel tasks are still running; their join's state cannot be read yet.");
        }

        _joins[0].State.WriteState(writer);
    }

    /// <summary>Loads parallelism 1's join section into every task's join; it must hold nothing (events waiting for their window
    /// cannot be split by key here).</summary>
    private void ReadJoin(BinaryReader reader)
    {
        var bytes = reader.ReadBytes(checked((int)(reader.BaseStream.Length - reader.BaseStream.Position)));
        foreach (var join in _joins)
        {
            using var read = new BinaryReader(new MemoryStream(bytes, writable: false));
            join.State.ReadState(read);
            if (join.Waiting != 0)
            {
                throw new InvalidDataException(
                    $"The checkpoint's {join.State.CheckpointName} holds {join.Waiting} events waiting for their window; a join behind a broadcast exchange restores only an empty join (as an aligned barrier leaves it).");
            }
        }
    }

    /// <summary>A task's join state at a barrier.</summary>
    private sealed record Captured(long Id, byte[] State);

    /// <summary>Stands in the query's checkpoint list where parallelism 1's join is.</summary>
    private sealed class JoinStatePart(BroadcastSide<T, TLeft, TRight, TOut> side) : ICheckpointed
    {
        public string CheckpointName => side._joins[0].State.CheckpointName;

        public void WriteState(BinaryWriter writer) => side.WriteJoin(writer);

        public void ReadState(BinaryReader reader) => side.ReadJoin(reader);
    }
}
