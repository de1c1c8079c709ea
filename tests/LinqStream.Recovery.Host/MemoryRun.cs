using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace LinqStream.Recovery.Host;

/// <summary>
/// The <c>memory</c> mode (issue #23's measurement): one tumbling window holding <c>--keys</c> distinct keys, then a few events in
/// later windows. Prints the managed heap after a full collection once the big window is full, once it has closed (the job
/// still running), and the process's peak working set; with <c>--checkpoint yes</c> a checkpoint is taken while the big
/// window is open, and the peak is printed before and after it. <c>--shape session</c> holds the keys in session windows (5 s gap)
/// instead: every key's session is open at once and all close when the later events pass.
/// </summary>
internal static class MemoryRun
{
    private static readonly DateTimeOffset s_origin = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static async Task<int> RunAsync(HostArguments args)
    {
        int keys = checked((int)args.Number("keys", 10_000_000));
        bool checkpoint = args.Text("checkpoint") == "yes";
        bool session = args.Has("shape") && args.Text("shape") == "session";
        var full = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var measured = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sink = new CountingSink(keys, closed);
        var events = QStream.From(Events(keys, full, measured.Task), e => e.Time);
        var windowed = session ? events.SessionWindow(TimeSpan.FromSeconds(5)) : events.TumblingWindow(TimeSpan.FromSeconds(10));
        var query =
            from e in windowed
            group e by e.Key into g
            select new KeyCount(g.Key, g.Count());
        await using var job = query.ToJob(sink, new JobOptions());
        var run = job.RunAsync();

        if (await Task.WhenAny(full.Task, run).ConfigureAwait(false) == run)
        {
            await run.ConfigureAwait(false);
        }

        // The source has handed over every event of the big window; give the query time to fold them (read-ahead is bounded).
        await Task.Delay(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        Report("window full");
        if (checkpoint)
        {
            long written = 0;
            await using (var counter = new CountingStream())
            {
                await job.CheckpointAsync(counter).ConfigureAwait(false);
                written = counter.Length;
            }

            Report(string.Create(CultureInfo.InvariantCulture, $"after a checkpoint of {written / 1e6:0.0} MB"));
        }

        measured.SetResult();
        if (await Task.WhenAny(closed.Task, run).ConfigureAwait(false) == run)
        {
            await run.ConfigureAwait(false);
        }

        await Task.Delay(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        Report("window closed, job running");
        if (args.Has("hold-seconds"))
        {
            // For a heap dump of what a running job keeps (dotnet-gcdump collect -p PID).
            await Task.Delay(TimeSpan.FromSeconds(args.Number("hold-seconds"))).ConfigureAwait(false);
        }

        sink.Release();
        await run.ConfigureAwait(false);
        return 0;
    }

    private static void Report(string when)
    {
        long heap = GC.GetTotalMemory(forceFullCollection: true);
        using var process = Process.GetCurrentProcess();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{when}: managed heap {heap / 1e6:0} MB, working set {process.WorkingSet64 / 1e6:0} MB, peak working set {process.PeakWorkingSet64 / 1e6:0} MB"));
    }

    private static async IAsyncEnumerable<KeyEvent> Events(int keys, TaskCompletionSource full, Task measured, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (int i = 0; i < keys; i++)
        {
            yield return new KeyEvent(i, s_origin.AddTicks(i));
        }

        full.SetResult();
        await measured.WaitAsync(cancellationToken).ConfigureAwait(false);
        for (int i = 0; i < 100; i++)
        {
            yield return new KeyEvent(i, s_origin.AddSeconds(10 + i));
        }
    }

    private sealed record KeyEvent(long Key, DateTimeOffset Time);

    private sealed record KeyCount(long Key, int Count);

    /// <summary>Counts results; once the big window's results are all in, signals and holds the job until measured.</summary>
    private sealed class CountingSink(int bigWindow, TaskCompletionSource closed) : EventSink<KeyCount>
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _count;

        public override string Name => "counting";

        public override bool IsTransactional => false;

        public void Release() => _release.TrySetResult();

        public override ValueTask OpenAsync(byte[]? committed, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public override ValueTask WriteAsync(ReadOnlyMemory<KeyCount> results, CancellationToken cancellationToken)
        {
            _count += results.Length;
            if (_count >= bigWindow)
            {
                // The job goes on (and CompleteAsync holds it open until measured), so the measurement sees what a running job keeps.
                closed.TrySetResult();
            }

            return ValueTask.CompletedTask;
        }

        public override ValueTask<byte[]> PrepareCommitAsync(long checkpointId, CancellationToken cancellationToken) => new([]);

        public override ValueTask CompleteAsync(CancellationToken cancellationToken) => new(_release.Task);
    }

    /// <summary>A write-only stream that keeps only the count of bytes.</summary>
    private sealed class CountingStream : Stream
    {
        private long _length;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _length;

        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => _length += count;

        public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _length += buffer.Length;
            return ValueTask.CompletedTask;
        }
    }
}
