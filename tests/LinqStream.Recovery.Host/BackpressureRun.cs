using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;

namespace LinqStream.Recovery.Host;

/// <summary>
/// The <c>backpressure</c> mode: a live source that offers <c>--rate</c> events per second (each with a <c>--payload</c>-character
/// string) feeds a query whose sink drains only <c>--drain</c> events per second. Every 200 ms it prints
/// <c>sample ms=… ws=… managed=… offered=… produced=… consumed=…</c>: the working set, the managed heap, how many events the
/// source could have handed over by then, how many it did hand over (the engine asked for them), and how many the sink took.
/// </summary>
internal static class BackpressureRun
{
    public static async Task<int> RunAsync(HostArguments args)
    {
        var duration = TimeSpan.FromSeconds(args.Number("seconds"));
        long rate = args.Number("rate", 200_000);
        long drain = args.Number("drain", 20_000);
        int payload = checked((int)args.Number("payload", 200));
        var clock = Stopwatch.StartNew();
        var source = new PacedSource(rate, payload, clock);
        var sink = new SlowSink(drain, clock);
        var query = QStream.From(source, p => p.Ticks, null, "generated").Where(p => p.Text.Length > 0);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"start rate={rate} drain={drain} payload={payload} batch={QueryOptions.Default.BatchSize}"));

        using var stop = new CancellationTokenSource(duration);
        var sampling = SampleAsync(source, sink, clock, stop.Token);
        await using (var job = query.ToJob(sink))
        {
            try
            {
                await job.RunAsync(stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
        }

        await sampling.ConfigureAwait(false);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"done offered={source.Offered} produced={source.Produced} consumed={sink.Consumed}"));
        return 0;
    }

    private static async Task SampleAsync(PacedSource source, SlowSink sink, Stopwatch clock, CancellationToken stop)
    {
        using var process = Process.GetCurrentProcess();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                process.Refresh();
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"sample ms={clock.ElapsedMilliseconds} ws={process.WorkingSet64} managed={GC.GetTotalMemory(false)} offered={source.Offered} produced={source.Produced} consumed={sink.Consumed}"));
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    internal sealed record Payload(long Id, long Ticks, string Text);

    /// <summary>A live source on which <c>rate</c> events per second become available; it hands over as many as the engine asks for.</summary>
    private sealed class PacedSource(long rate, int payload, Stopwatch clock) : EventSource<Payload>
    {
        private static readonly long s_start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
        private long _produced;

        public long Produced => Interlocked.Read(ref _produced);

        public long Offered => (long)(clock.Elapsed.TotalSeconds * rate);

        public override string Name => "generated";

        public override bool CanReplay => false;

        public override ValueTask OpenAsync(SourceContext context, byte[]? position, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public override async ValueTask<SourceRead> ReadAsync(Memory<Payload> buffer, CancellationToken cancellationToken)
        {
            long available = Offered - _produced;
            if (available <= 0)
            {
                await Task.Delay(1, cancellationToken).ConfigureAwait(false);
                return SourceRead.Idle;
            }

            int count = (int)Math.Min(buffer.Length, available);
            var span = buffer.Span;
            for (int i = 0; i < count; i++)
            {
                long id = _produced + i;
                span[i] = new Payload(id, s_start + id * 10, string.Create(payload, id, static (text, id) =>
                {
                    text.Fill('a');
                    id.TryFormat(text, out _, provider: CultureInfo.InvariantCulture);
                }));
            }

            Interlocked.Add(ref _produced, count);
            return new SourceRead(count, false);
        }

        public override byte[] GetPosition()
        {
            var position = new byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(position, _produced);
            return position;
        }
    }

    /// <summary>A sink that takes <c>drain</c> events per second: it waits until the clock has caught up with what it has taken.</summary>
    private sealed class SlowSink(long drain, Stopwatch clock) : EventSink<Payload>
    {
        private long _consumed;
        private long _characters;

        public long Consumed => Interlocked.Read(ref _consumed);

        public override string Name => "slow";

        public override bool IsTransactional => false;

        public override ValueTask OpenAsync(byte[]? committed, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public override async ValueTask WriteAsync(ReadOnlyMemory<Payload> results, CancellationToken cancellationToken)
        {
            foreach (var result in results.Span)
            {
                _characters += result.Text.Length;
            }

            long total = _consumed + results.Length;
            var due = TimeSpan.FromSeconds((double)total / drain) - clock.Elapsed;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, cancellationToken).ConfigureAwait(false);
            }

            Interlocked.Exchange(ref _consumed, total);
        }

        public override ValueTask<byte[]> PrepareCommitAsync(long checkpointId, CancellationToken cancellationToken) =>
            ValueTask.FromResult(BitConverter.GetBytes(_consumed));

        public override ValueTask CompleteAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
