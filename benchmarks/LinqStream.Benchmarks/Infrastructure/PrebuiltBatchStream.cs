using LinqStream.Runtime;

namespace LinqStream.Benchmarks.Infrastructure;

/// <summary>
/// A source whose events were turned into columns before the run: each step rents a batch, block-copies the next slice of the
/// prepared start, end and payload columns into it and pushes it with its watermark. That is the least work by which a batch can
/// enter a plan (no per-event read, time kernel or order check), so a query over it measures the engine's batch-to-batch speed,
/// the baseline an ingress is compared with (issue #19: replay from an array at least 0.8× of it).
/// </summary>
internal sealed class PrebuiltBatchStream<T> : PhysicalStream<T>
{
    private readonly long[] _start;
    private readonly long[] _end;
    private readonly T[] _payload;

    /// <summary>Initializes the source from columns of equal length whose starts never decrease.</summary>
    public PrebuiltBatchStream(long[] start, long[] end, T[] payload)
    {
        if (start.Length != end.Length || start.Length != payload.Length)
        {
            throw new ArgumentException($"The columns differ in length: {start.Length} starts, {end.Length} ends, {payload.Length} payloads.");
        }

        for (int i = 1; i < start.Length; i++)
        {
            if (start[i] < start[i - 1])
            {
                throw new ArgumentException($"Start {start[i]} at {i} is before start {start[i - 1]} at {i - 1}: prebuilt batches must be in start order.", nameof(start));
            }
        }

        _start = start;
        _end = end;
        _payload = payload;
    }

    public override string Name => "PrebuiltBatches";

    public override IReadOnlyList<PhysicalNode> Inputs => [];

    public override void Connect(IStreamObserver<T> downstream, QueryContext context) =>
        context.Sources.Add(new Driver(this, downstream, context.Pool<T>()));

    private sealed class Driver(PrebuiltBatchStream<T> source, IStreamObserver<T> downstream, BatchPool<T> pool) : SourceDriver
    {
        private int _offset;

        public override bool CanReplay => false;

        public override string SourceName => "prebuilt batches";

        public override long EventsRead => _offset;

        public override long MaxEventTime => _offset == 0 ? Temporal.Ticks.MinusInfinity : source._start[_offset - 1];

        public override long LateEvents => 0;

        public override bool IsLive => false;

        public override void WriteState(BinaryWriter writer) => writer.Write(_offset);

        public override void ReadState(BinaryReader reader) => _offset = reader.ReadInt32();

        public override bool TryStep()
        {
            if (IsCompleted)
            {
                return false;
            }

            int n = Math.Min(pool.BatchSize, source._start.Length - _offset);
            if (n == 0)
            {
                IsCompleted = true;
                Watermark = Temporal.Ticks.Infinity;
                downstream.OnWatermark(Temporal.Ticks.Infinity);
                downstream.OnCompleted();
                return true;
            }

            var batch = pool.Rent();
            Array.Copy(source._start, _offset, batch.Start, 0, n);
            Array.Copy(source._end, _offset, batch.End, 0, n);
            Array.Copy(source._payload, _offset, batch.Payload, 0, n);
            batch.Count = n;
            _offset += n;
            downstream.OnBatch(batch);
            Watermark = source._start[_offset - 1];
            downstream.OnWatermark(Watermark);
            return true;
        }
    }
}
