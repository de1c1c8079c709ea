using LinqStream.Runtime;
using LinqStream.Temporal;

namespace LinqStream.Physical.Union;

/// <summary>Merges N inputs in start order, buffering whole batches of an input that is ahead of the others.</summary>
/// <remarks>
/// An input's later events start no earlier than its <em>frontier</em>: the larger of its watermark and its last event's
/// start (infinity once complete). The buffered event with the smallest start may go out once no other input can still
/// produce an earlier one: it is no later than every other input's buffered head and every empty input's frontier. Events
/// go out in runs (one bound computed per run, not per event); a run that reaches the end of a batch forwards the batch
/// itself, with the events already sent marked absent, so an input that is not ahead costs no copy.
/// </remarks>
internal sealed class UnionOperator<T> : Runtime.Checkpoints.ICheckpointed
{
    private readonly IStreamObserver<T> _downstream;
    private readonly BatchPool<T> _pool;
    private readonly UnionInput[] _inputs;
    private EventBatch<T>? _output;
    private long _outputWatermark = Ticks.MinusInfinity;
    private int _completed;
    private bool _faulted;

    public UnionOperator(IStreamObserver<T> downstream, QueryContext context, int inputCount)
    {
        _downstream = downstream;
        _pool = context.Pool<T>();
        _inputs = new UnionInput[inputCount];
        for (int i = 0; i < inputCount; i++)
        {
            _inputs[i] = new UnionInput(this);
        }

        context.Checkpointed.Add(this);
    }

    public string CheckpointName => "Union";

    public void WriteState(BinaryWriter writer) => Runtime.Checkpoints.StateCodec.Write(writer, CaptureState(), typeof(UnionState<T>));

    public void ReadState(BinaryReader reader) => RestoreState((UnionState<T>)Runtime.Checkpoints.StateCodec.Read(reader, typeof(UnionState<T>))!);

    /// <summary>Gets the observer that input <paramref name="index"/> pushes into.</summary>
    public IStreamObserver<T> Input(int index) => _inputs[index];

    /// <summary>Copies the state out as plain data.</summary>
    public UnionState<T> CaptureState()
    {
        var inputs = new UnionInputState<T>[_inputs.Length];
        for (int k = 0; k < _inputs.Length; k++)
        {
            var input = _inputs[k];
            var buffered = new List<StreamEvent<T>>();
            if (input.Head is { } head)
            {
                AddLive(buffered, head, input.Cursor);
                foreach (var batch in input.Rest)
                {
                    AddLive(buffered, batch, 0);
                }
            }

            inputs[k] = new UnionInputState<T>(input.Watermark, input.LastStart, input.Completed, buffered);
        }

        return new UnionState<T>(_outputWatermark, inputs);
    }

    /// <summary>Loads a state captured by <see cref="CaptureState"/>; call before any input pushes.</summary>
    public void RestoreState(UnionState<T> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Inputs.Count != _inputs.Length)
        {
            throw new ArgumentException($"The state has {state.Inputs.Count} inputs; this union has {_inputs.Length}.", nameof(state));
        }

        for (int k = 0; k < _inputs.Length; k++)
        {
            var (input, saved) = (_inputs[k], state.Inputs[k]);
            input.Watermark = saved.Watermark;
            input.LastStart = saved.LastStart;
            input.Completed = saved.Completed;
            _completed += saved.Completed ? 1 : 0;
            EventBatch<T>? batch = null;
            foreach (var e in saved.Buffered)
            {
                batch ??= _pool.Rent();
                batch.Add(e.Start, e.End, e.Payload);
                if (batch.IsFull)
                {
                    input.Enqueue(batch);
                    batch = null;
                }
            }

            if (batch is not null)
            {
                input.Enqueue(batch);
            }
        }

        _outputWatermark = state.OutputWatermark;
    }

    private void OnBatch(UnionInput input, EventBatch<T> batch)
    {
        int last = LastLive(batch);
        if (_faulted || input.Completed || last < 0)
        {
            _pool.Return(batch);
            return;
        }

        input.LastStart = batch.Start[last];
        input.Enqueue(batch);
        Drain();
        Flush();
    }

    private void OnWatermark(UnionInput input, long watermark)
    {
        if (_faulted || watermark <= input.Watermark)
        {
            return;
        }

        input.Watermark = watermark;
        Drain();
        Flush();
        EmitWatermark();
    }

    private void OnCompleted(UnionInput input)
    {
        if (_faulted || input.Completed)
        {
            return;
        }

        input.Completed = true;
        _completed++;
        Drain();
        Flush();
        EmitWatermark();
        if (_completed == _inputs.Length)
        {
            _downstream.OnCompleted();
        }
    }

    private void OnError(Exception error)
    {
        if (_faulted)
        {
            return;
        }

        _faulted = true;
        Discard();
        _downstream.OnError(error);
    }

    /// <summary>Sends every buffered event that no input can still precede: in start order, ties from the lower input first.</summary>
    /// <remarks>
    /// The head with the smallest start (the lowest input on a tie) may go out up to a bound: every other input's next
    /// possible start (its head, or its frontier when it has none), minus one tick for a lower input, which would win a tie
    /// (a completed input with nothing buffered bounds nothing). So the output order is (start, input index, order within the
    /// input) however the inputs' batches and watermarks interleave in time (docs/semantics.md §8).
    /// </remarks>
    private void Drain()
    {
        var inputs = _inputs;
        while (true)
        {
            int best = -1;
            long bestStart = Ticks.Infinity;
            for (int k = 0; k < inputs.Length; k++)
            {
                if (inputs[k].Head is { } head && (best < 0 || head.Start[inputs[k].Cursor] < bestStart))
                {
                    best = k;
                    bestStart = head.Start[inputs[k].Cursor];
                }
            }

            if (best < 0)
            {
                return;
            }

            long bound = Ticks.Infinity;
            for (int k = 0; k < inputs.Length; k++)
            {
                var input = inputs[k];
                if (k == best || (input.Head is null && input.Completed))
                {
                    continue;
                }

                long next = input.Head is { } head ? head.Start[input.Cursor] : input.Frontier;
                bound = Math.Min(bound, k < best && next != long.MinValue ? next - 1 : next);
            }

            if (bestStart > bound)
            {
                return;
            }

            var bestHead = inputs[best].Head!;
            if (bestHead.Start[LastLive(bestHead)] > bound && EveryOpenInputHasAHead())
            {
                // Interleaved inputs (partitions of one log read side by side): runs are a few events long, so merge the
                // heads event by event rather than paying a bound per run.
                MergeHeads();
                continue;
            }

            EmitRun(inputs[best], bound);
        }
    }

    private bool EveryOpenInputHasAHead()
    {
        foreach (var input in _inputs)
        {
            if (input.Head is null && !input.Completed)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// While every input that can still send has a buffered head, sends the least (start, input index) head event, one at a
    /// time, until a head batch runs out (then <see cref="Drain"/> looks again: the next batch may go out whole). No other
    /// event can precede it: each input's later events start no earlier than its head, and a tie goes to the lower input.
    /// </summary>
    private void MergeHeads()
    {
        var inputs = _inputs;
        while (true)
        {
            int best = -1;
            long bestStart = 0;
            for (int k = 0; k < inputs.Length; k++)
            {
                if (inputs[k].Head is { } head)
                {
                    long start = head.Start[inputs[k].Cursor];
                    if (best < 0 || start < bestStart)
                    {
                        best = k;
                        bestStart = start;
                    }
                }
            }

            var input = inputs[best];
            var batch = input.Head!;
            int i = input.Cursor;
            var output = _output ??= _pool.Rent();
            output.Add(bestStart, batch.End[i], batch.Payload[i]);
            if (output.IsFull)
            {
                _output = null;
                _downstream.OnBatch(output);
            }

            i = NextLive(batch, i + 1);
            if (i < batch.Count)
            {
                input.Cursor = i;
                continue;
            }

            input.PopHead();
            _pool.Return(batch);
            return;
        }
    }

    /// <summary>Sends the events of <paramref name="input"/>'s head batch that start at or before <paramref name="bound"/>.</summary>
    private void EmitRun(UnionInput input, long bound)
    {
        var batch = input.Head!;
        int i = input.Cursor;
        if (batch.Start[LastLive(batch)] <= bound)
        {
            // The rest of the batch goes: forward the batch itself rather than copy it.
            for (int j = 0; j < i; j++)
            {
                batch.SetAbsent(j);
            }

            input.PopHead();
            Flush();
            _downstream.OnBatch(batch);
            return;
        }

        var start = batch.Start;
        var end = batch.End;
        var payload = batch.Payload;
        int count = batch.Count;
        for (; i < count; i++)
        {
            if (batch.IsAbsent(i))
            {
                continue;
            }

            if (start[i] > bound)
            {
                break;
            }

            var output = _output ??= _pool.Rent();
            output.Add(start[i], end[i], payload[i]);
            if (output.IsFull)
            {
                _output = null;
                _downstream.OnBatch(output);
            }
        }

        // The batch still holds a live event past the bound (its last live one), so it stays the head.
        input.Cursor = NextLive(batch, i);
    }

    private void Flush()
    {
        if (_output is { Count: > 0 } output)
        {
            _output = null;
            _downstream.OnBatch(output);
        }
    }

    private void EmitWatermark()
    {
        long watermark = Ticks.Infinity;
        foreach (var input in _inputs)
        {
            if (!input.Completed)
            {
                watermark = Math.Min(watermark, input.Watermark);
            }
        }

        if (watermark > _outputWatermark)
        {
            _outputWatermark = watermark;
            _downstream.OnWatermark(watermark);
        }
    }

    private void Discard()
    {
        if (_output is not null)
        {
            _pool.Return(_output);
            _output = null;
        }

        foreach (var input in _inputs)
        {
            while (input.Head is { } head)
            {
                input.PopHead();
                _pool.Return(head);
            }
        }
    }

    private static int NextLive(EventBatch<T> batch, int from)
    {
        while (from < batch.Count && batch.IsAbsent(from))
        {
            from++;
        }

        return from;
    }

    private static int LastLive(EventBatch<T> batch)
    {
        int i = batch.Count - 1;
        while (i >= 0 && batch.IsAbsent(i))
        {
            i--;
        }

        return i;
    }

    private static void AddLive(List<StreamEvent<T>> events, EventBatch<T> batch, int from)
    {
        for (int i = from; i < batch.Count; i++)
        {
            if (!batch.IsAbsent(i))
            {
                events.Add(new StreamEvent<T>(batch.Start[i], batch.End[i], batch.Payload[i]));
            }
        }
    }

    /// <summary>One input: its progress and its buffered batches (the head one read from <see cref="Cursor"/>).</summary>
    private sealed class UnionInput(UnionOperator<T> owner) : IStreamObserver<T>
    {
        public Queue<EventBatch<T>> Rest { get; } = new();

        public EventBatch<T>? Head { get; private set; }

        /// <summary>Gets or sets the index of the head batch's next live event.</summary>
        public int Cursor { get; set; }

        public long Watermark { get; set; } = Ticks.MinusInfinity;

        public long LastStart { get; set; } = Ticks.MinusInfinity;

        public bool Completed { get; set; }

        /// <summary>Gets the least start any later event of this input can have.</summary>
        public long Frontier => Completed ? Ticks.Infinity : Math.Max(Watermark, LastStart);

        public void Enqueue(EventBatch<T> batch)
        {
            if (Head is null)
            {
                Head = batch;
                Cursor = NextLive(batch, 0);
            }
            else
            {
                Rest.Enqueue(batch);
            }
        }

        /// <summary>Moves to the next buffered batch; the caller owns the old head.</summary>
        public void PopHead()
        {
            if (Rest.TryDequeue(out var next))
            {
                Head = next;
                Cursor = NextLive(next, 0);
            }
            else
            {
                Head = null;
                Cursor = 0;
            }
        }

        public void OnBatch(EventBatch<T> batch) => owner.OnBatch(this, batch);

        public void OnWatermark(long watermark) => owner.OnWatermark(this, watermark);

        public void OnCompleted() => owner.OnCompleted(this);

        public void OnError(Exception error) => owner.OnError(error);
    }
}
