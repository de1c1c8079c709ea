using LinqStream.Physical.Union;
using LinqStream.Runtime;

namespace LinqStream.Parallel;

/// <summary>A physical stream that is a union, or filters and projections over one: the same stream per union input.</summary>
internal interface IUnionSplittable<T>
{
    /// <summary>Gets one stream per input of the union (with this stream's filters and projections on each), or null when there is no union.</summary>
    IReadOnlyList<PhysicalStream<T>>? SplitByUnionInput();
}

/// <summary>
/// Runs one keyed window aggregate over a union of partitions on S source tasks and P aggregate tasks: source task s reads
/// a contiguous group of the union's inputs (each with its own ingress and watermark, and the operators above it), unions
/// them and hashes each event to the task owning its key group; task t unions what the S source tasks sent it, in start
/// order with ties from the lower source task first, and runs the window operator; an order-restoring merge feeds the rest
/// of the plan on the query's thread.
/// </summary>
/// <remarks>
/// <code>
/// S source tasks (S = min(inputs, P))        P tasks                                     the query's thread
/// inputs [0..k)  ─ union ─ hash exchange ═╦═▶ union of S channels ─ window agg [groups) ═╗
/// inputs [k..n)  ─ union ─ hash exchange ═╬═▶ union of S channels ─ window agg [groups) ═╬═▶ merge ─ rest ─ sink
///                                         ╚═ every source task has a channel to every task ═╝
/// </code>
/// The output equals parallelism 1's event for event: a union orders ties by (start, input index), and the inputs are given
/// to source tasks in contiguous groups, so the union of source tasks' unions restricted to one task's keys is exactly the
/// sequential union restricted to them; each key's events reach its window operator in the same order as at parallelism 1.
/// A task never waits on one channel while another has data (the union buffers what is ahead), so S × P bounded channels
/// cannot deadlock. Checkpoints are not taken here: a job plans one source task (<see cref="KeyedParallelRun{T, TKey, TResult}"/>).
/// </remarks>
internal sealed class PartitionedParallelRun<T, TKey, TResult> : IParallelRun
{
    private readonly QueryContext[] _sourceContexts;
    private readonly QueryRunner[] _sourceRunners;
    private readonly HashExchange<T, TKey>[] _exchanges;
    private readonly SpscChannel<T>[][] _inputs; // [task][source task]
    private readonly ConsumerSignal[] _signals;
    private readonly SpscChannel<TResult>[] _outputs;
    private readonly IStreamObserver<T>[][] _taskInputs; // [task][source task]: the task's union inputs (or its operator when S = 1)
    private readonly QueryContext[] _taskContexts;
    private readonly List<Thread> _threads = [];
    private int _started;
    private int _stopped;

    public PartitionedParallelRun(
        IReadOnlyList<PhysicalStream<T>> partitions,
        Action<T[], ulong[]?, TKey[], int> keyKernel,
        Func<IStreamObserver<TResult>, QueryContext, IStreamObserver<T>> createOperator,
        IStreamObserver<TResult> downstream,
        QueryContext context)
    {
        var options = context.Options;
        int parallelism = Math.Min(options.Parallelism, options.KeyGroups);
        int sources = Math.Min(partitions.Count, parallelism);
        var taskOptions = options with
        {
            DeadLetters = options.DeadLetters is null ? null : new LockedDeadLetters(options.DeadLetters),
            Progress = null,
        };

        _inputs = new SpscChannel<T>[parallelism][];
        _signals = new ConsumerSignal[parallelism];
        _outputs = new SpscChannel<TResult>[parallelism];
        _taskInputs = new IStreamObserver<T>[parallelism][];
        _taskContexts = new QueryContext[parallelism];
        for (int t = 0; t < parallelism; t++)
        {
            _signals[t] = new ConsumerSignal();
            _inputs[t] = new SpscChannel<T>[sources];
            for (int s = 0; s < sources; s++)
            {
                _inputs[t][s] = new SpscChannel<T>(KeyedParallelRun<T, TKey, TResult>.ChannelCapacity, options.BatchSize, _signals[t]);
            }

            _outputs[t] = new SpscChannel<TResult>(KeyedParallelRun<T, TKey, TResult>.ChannelCapacity, options.BatchSize);
            _taskContexts[t] = new QueryContext(taskOptions) { ParallelNodes = context.ParallelNodes };
            var head = createOperator(new ForwardExchange<TResult>(_outputs[t], _taskContexts[t]), _taskContexts[t]);
            _taskInputs[t] = new IStreamObserver<T>[sources];
            if (sources == 1)
            {
                _taskInputs[t][0] = head;
            }
            else
            {
                var union = new UnionOperator<T>(head, _taskContexts[t], sources);
                for (int s = 0; s < sources; s++)
                {
                    _taskInputs[t][s] = union.Input(s);
                }
            }
        }

        _sourceContexts = new QueryContext[sources];
        _sourceRunners = new QueryRunner[sources];
        _exchanges = new HashExchange<T, TKey>[sources];
        for (int s = 0; s < sources; s++)
        {
            var sourceContext = new QueryContext(taskOptions) { ParallelNodes = context.ParallelNodes };
            var channels = new SpscChannel<T>[parallelism];
            for (int t = 0; t < parallelism; t++)
            {
                channels[t] = _inputs[t][s];
            }

            var exchange = new HashExchange<T, TKey>(channels, keyKernel, options.KeyGroups, sourceContext);
            var (first, end) = KeyGroups.RangeOf(s, partitions.Count, sources);
            if (end - first == 1)
            {
                sourceContext.Wire(partitions[first], exchange);
            }
            else
            {
                var union = new UnionOperator<T>(exchange, sourceContext, end - first);
                for (int i = first; i < end; i++)
                {
                    sourceContext.Wire(partitions[i], union.Input(i - first));
                }
            }

            _sourceContexts[s] = sourceContext;
            _exchanges[s] = exchange;
            _sourceRunners[s] = new QueryRunner(sourceContext);
        }

        Merge = new OrderRestoringMerge<TResult>(_outputs, downstream, context, this);
        context.Sources.Add(Merge);
        context.Operators.Add(this);
    }

    public OrderRestoringMerge<TResult> Merge { get; }

    /// <summary>Gets the number of aggregate tasks.</summary>
    public int Parallelism => _outputs.Length;

    /// <summary>Gets the number of source tasks.</summary>
    public int SourceTasks => _sourceContexts.Length;

    /// <summary>Gets the number of events all source tasks sent to each task.</summary>
    public IReadOnlyList<long> EventsPerTask
    {
        get
        {
            var sent = new long[_outputs.Length];
            foreach (var exchange in _exchanges)
            {
                for (int t = 0; t < sent.Length; t++)
                {
                    sent[t] += exchange.SentPerTask[t];
                }
            }

            return sent;
        }
    }

    /// <summary>Gets the task contexts, then the source tasks' contexts (tests check their pools are whole afterwards).</summary>
    public IReadOnlyList<QueryContext> TaskContexts => [.. _taskContexts, .. _sourceContexts];

    public long EventsRead => SumOverSources(static source => source.EventsRead);

    public long LateEvents => SumOverSources(static source => source.LateEvents);

    public long MaxEventTime
    {
        get
        {
            long max = Temporal.Ticks.MinusInfinity;
            foreach (var context in _sourceContexts)
            {
                foreach (var source in context.Sources.ToArray())
                {
                    max = Math.Max(max, source.MaxEventTime);
                }
            }

            return max;
        }
    }

    public bool IsLive => _sourceContexts.Any(c => c.Sources.Any(s => s.IsLive));

    public bool CanReplay => _sourceContexts.All(c => c.Sources.All(s => s.CanReplay));

    public string SourceNames => string.Join(", ", _sourceContexts.SelectMany(c => c.Sources).Select(s => s.SourceName));

    private long SumOverSources(Func<SourceDriver, long> read)
    {
        long total = 0;
        foreach (var context in _sourceContexts)
        {
            foreach (var source in context.Sources.ToArray())
            {
                total += read(source);
            }
        }

        return total;
    }

    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        for (int t = 0; t < _outputs.Length; t++)
        {
            int task = t;
            StartThread($"LinqStream task {task + 1}/{_outputs.Length}", () => RunTask(task));
        }

        for (int s = 0; s < _sourceContexts.Length; s++)
        {
            int source = s;
            StartThread($"LinqStream source task {source + 1}/{_sourceContexts.Length}", () => RunSources(source));
        }
    }

    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        foreach (var runner in _sourceRunners)
        {
            runner.Stop();
        }

        foreach (var channels in _inputs)
        {
            foreach (var channel in channels)
            {
                channel.Close();
            }
        }

        foreach (var channel in _outputs)
        {
            channel.Close();
        }
    }

    /// <summary>Waits for every thread of this run to end (tests; after <see cref="Stop"/> or completion).</summary>
    public bool Join(TimeSpan timeout)
    {
        foreach (var thread in _threads)
        {
            if (!thread.Join(timeout))
            {
                return false;
            }
        }

        return true;
    }

    private void StartThread(string name, Action body)
    {
        var thread = new Thread(() => body()) { IsBackground = true, Name = name };
        _threads.Add(thread);
        thread.Start();
    }

    private void RunSources(int source)
    {
        BarrierEpoch.Passed(0);
        try
        {
            if (_sourceContexts[source].Sources.Any(s => s.IsLive))
            {
                _sourceRunners[source].RunAsync(CancellationToken.None).GetAwaiter().GetResult();
            }
            else
            {
                _sourceRunners[source].Run();
            }
        }
        catch (Exception ex)
        {
            _exchanges[source].OnError(ex);
        }
    }

    /// <summary>
    /// Task <paramref name="task"/>: takes what is there from each source task's channel in turn (a few messages each, so no
    /// channel starves) and pushes it into the task's union; waits only when every channel is empty.
    /// </summary>
    private void RunTask(int task)
    {
        BarrierEpoch.Passed(0);
        var channels = _inputs[task];
        var inputs = _taskInputs[task];
        var pool = _taskContexts[task].Pool<T>();
        var signal = _signals[task];
        var open = new bool[channels.Length];
        Array.Fill(open, true);
        int remaining = channels.Length;
        Func<bool> hasMessage = () => AnyMessage(channels, open);
        try
        {
            while (remaining > 0)
            {
                bool received = false;
                for (int s = 0; s < channels.Length; s++)
                {
                    if (!open[s])
                    {
                        continue;
                    }

                    var channel = channels[s];
                    for (int n = 0; n < channel.Capacity && channel.TryPeek() is { } slot; n++)
                    {
                        received = true;
                        if (!Deliver(channel, slot, inputs[s], pool))
                        {
                            open[s] = false;
                            remaining--;
                            if (slot.Kind == ChannelMessage.Error)
                            {
                                return; // the error went downstream through the union, once
                            }

                            break;
                        }
                    }
                }

                if (!received)
                {
                    if (Array.Exists(channels, c => c.IsClosed))
                    {
                        return; // stopped
                    }

                    WaitForMessage(signal, hasMessage);
                }
            }
        }
        catch (Exception ex)
        {
            _outputs[task].SendError(ex);
        }
    }

    /// <summary>Pushes one message into the task's input for its source task; false when that source task is done (completed or failed).</summary>
    private static bool Deliver(SpscChannel<T> channel, SpscChannel<T>.Slot slot, IStreamObserver<T> input, BatchPool<T> pool)
    {
        switch (slot.Kind)
        {
            case ChannelMessage.Batch:
                var batch = pool.Rent();
                SpscChannel<T>.SwapColumns(slot.Batch, batch);
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
            case ChannelMessage.Error:
                var error = slot.Error!;
                channel.Release();
                input.OnError(error);
                return false;
            default:
                throw new InvalidOperationException("A checkpoint barrier reached a task fed by several source tasks; jobs plan one source task.");
        }
    }

    private static bool AnyMessage(SpscChannel<T>[] channels, bool[] open)
    {
        for (int s = 0; s < channels.Length; s++)
        {
            if ((open[s] && channels[s].TryPeek() is not null) || channels[s].IsClosed)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Spins briefly, then blocks until a source task publishes (or 100 ms pass, a backstop).</summary>
    private static void WaitForMessage(ConsumerSignal signal, Func<bool> hasMessage)
    {
        var spinner = default(SpinWait);
        while (!spinner.NextSpinWillYield)
        {
            if (hasMessage())
            {
                return;
            }

            spinner.SpinOnce(-1);
        }

        signal.Wait(hasMessage, 100);
    }
}
