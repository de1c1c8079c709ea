using LinqStream.Runtime;

namespace LinqStream.Parallel;

/// <summary>
/// Runs one keyed window aggregate on P tasks: its input (sources and everything below it) on a source task that hashes
/// each event to the task owning its key group, P tasks each running the window operator on its own thread with its own
/// context and pools, and an order-restoring merge that feeds the rest of the plan on the query's own thread.
/// </summary>
/// <remarks>
/// <code>
/// stage 1 (1 task)         stage 2 (P tasks)                       stage 3 (the query's thread)
/// sources ─ ingress ─ hash ═╦═▶ [key groups 0..k)   window agg ═╗
///     exchange by key group ╠═▶ [key groups k..2k)  window agg ═╬═▶ order-restoring merge ─ rest of the plan ─ sink
///                           ╚═▶ ...                            ═╝
/// ═ bounded SPSC channels carrying batches, watermarks, completion and errors
/// </code>
/// Operators need no locks: each task owns its operators and pools, and only channels cross threads.
/// </remarks>
internal sealed class KeyedParallelRun<T, TKey, TResult> : IParallelRun
{
    /// <summary>Messages in flight per channel: bounds memory (P × 2 channels × this × batch size events) and absorbs jitter.</summary>
    internal const int ChannelCapacity = 8;

    private readonly QueryContext _sourceContext;
    private readonly QueryRunner _sourceRunner;
    private readonly HashExchange<T, TKey> _exchange;
    private readonly SpscChannel<T>[] _inputs;
    private readonly SpscChannel<TResult>[] _outputs;
    private readonly IStreamObserver<T>[] _taskHeads;
    private readonly QueryContext[] _taskContexts;
    private readonly List<Thread> _threads = [];
    private int _started;
    private int _stopped;

    public KeyedParallelRun(
        PhysicalStream<T> input,
        Action<T[], ulong[]?, TKey[], int> keyKernel,
        Func<IStreamObserver<TResult>, QueryContext, IStreamObserver<T>> createOperator,
        IStreamObserver<TResult> downstream,
        QueryContext context)
    {
        var options = context.Options;
        int parallelism = Math.Min(options.Parallelism, options.KeyGroups);
        var taskOptions = options with
        {
            DeadLetters = options.DeadLetters is null ? null : new LockedDeadLetters(options.DeadLetters),
            Progress = null,
        };

        _inputs = new SpscChannel<T>[parallelism];
        _outputs = new SpscChannel<TResult>[parallelism];
        _taskHeads = new IStreamObserver<T>[parallelism];
        _taskContexts = new QueryContext[parallelism];
        for (int i = 0; i < parallelism; i++)
        {
            _inputs[i] = new SpscChannel<T>(ChannelCapacity, options.BatchSize);
            _outputs[i] = new SpscChannel<TResult>(ChannelCapacity, options.BatchSize);
            _taskContexts[i] = new QueryContext(taskOptions) { ParallelNodes = context.ParallelNodes };
            _taskHeads[i] = createOperator(new ForwardExchange<TResult>(_outputs[i], _taskContexts[i]), _taskContexts[i]);
        }

        _sourceContext = new QueryContext(taskOptions) { ParallelNodes = context.ParallelNodes };
        _exchange = new HashExchange<T, TKey>(_inputs, keyKernel, options.KeyGroups, _sourceContext);
        input.Connect(_exchange, _sourceContext);
        _sourceRunner = new QueryRunner(_sourceContext);
        Merge = new OrderRestoringMerge<TResult>(_outputs, downstream, context, this);
        context.Sources.Add(Merge);
        context.Operators.Add(this);
    }

    public OrderRestoringMerge<TResult> Merge { get; }

    /// <summary>Gets the number of tasks.</summary>
    public int Parallelism => _inputs.Length;

    /// <summary>Gets the number of events the exchange sent to each task.</summary>
    public IReadOnlyList<long> EventsPerTask => _exchange.SentPerTask;

    /// <summary>Gets the messages waiting in every channel now (what the bounded channels hold).</summary>
    public int QueuedMessages => _inputs.Sum(c => c.Depth) + _outputs.Sum(c => c.Depth);

    /// <summary>Gets the task contexts (tests check their pools are whole afterwards).</summary>
    public IReadOnlyList<QueryContext> TaskContexts => _taskContexts;

    public long EventsRead => SumOverSources(static source => source.EventsRead);

    public long LateEvents => SumOverSources(static source => source.LateEvents);

    public long MaxEventTime
    {
        get
        {
            long max = Temporal.Ticks.MinusInfinity;
            foreach (var source in _sourceContext.Sources.ToArray())
            {
                max = Math.Max(max, source.MaxEventTime);
            }

            return max;
        }
    }

    public bool IsLive => _sourceContext.Sources.Any(s => s.IsLive);

    /// <summary>Adds a counter over the source task's drivers (read from another thread, for progress and metrics).</summary>
    private long SumOverSources(Func<SourceDriver, long> read)
    {
        long total = 0;
        foreach (var source in _sourceContext.Sources.ToArray())
        {
            total += read(source);
        }

        return total;
    }

    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        for (int i = 0; i < _taskHeads.Length; i++)
        {
            int task = i;
            StartThread($"LinqStream task {task + 1}/{_taskHeads.Length}", () => RunTask(task));
        }

        StartThread("LinqStream source task", RunSources);
    }

    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        _sourceRunner.Stop();
        foreach (var channel in _inputs)
        {
            channel.Close();
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

    private void RunSources()
    {
        try
        {
            if (IsLive)
            {
                _sourceRunner.RunAsync(CancellationToken.None).GetAwaiter().GetResult();
            }
            else
            {
                _sourceRunner.Run();
            }
        }
        catch (Exception ex)
        {
            _exchange.OnError(ex);
        }
    }

    private void RunTask(int task)
    {
        var channel = _inputs[task];
        var head = _taskHeads[task];
        var pool = _taskContexts[task].Pool<T>();
        try
        {
            while (channel.Peek() is { } slot)
            {
                switch (slot.Kind)
                {
                    case ChannelMessage.Batch:
                        var batch = pool.Rent();
                        SpscChannel<T>.SwapColumns(slot.Batch, batch);
                        channel.Release();
                        head.OnBatch(batch);
                        break;
                    case ChannelMessage.Watermark:
                        long watermark = slot.Value;
                        channel.Release();
                        head.OnWatermark(watermark);
                        break;
                    case ChannelMessage.Completed:
                        channel.Release();
                        head.OnCompleted();
                        return;
                    default:
                        var error = slot.Error!;
                        channel.Release();
                        head.OnError(error);
                        return;
                }
            }
        }
        catch (Exception ex)
        {
            _outputs[task].SendError(ex);
        }
    }
}
