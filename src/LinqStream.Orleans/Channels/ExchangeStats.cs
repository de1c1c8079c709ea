using System.Globalization;

namespace LinqStream.Orleans.Channels;

/// <summary>
/// Counts what the cross-silo channels of one direction sent in this process: calls, frames by kind, events and bytes. One
/// increment per call and per frame (never per event), so a spread job's frames and calls per event can be read off a run
/// (the benchmark of q5 on 3 silos prints them, issue #17).
/// </summary>
internal sealed class ExchangeStats(string name)
{
    private long _calls;
    private long _frames;
    private long _batchFrames;
    private long _watermarkFrames;
    private long _events;
    private long _bytes;

    /// <summary>Gets the source tasks' channels to the keyed tasks.</summary>
    public static ExchangeStats SourceToKeyed { get; } = new("source to keyed");

    /// <summary>Gets the keyed tasks' channels to the merge.</summary>
    public static ExchangeStats KeyedToMerge { get; } = new("keyed to merge");

    /// <summary>Gets the direction's name.</summary>
    public string Name { get; } = name;

    /// <summary>Counts a call (its frames were counted when they were sent).</summary>
    public void Call() => Interlocked.Increment(ref _calls);

    /// <summary>Counts a frame given to the sender.</summary>
    public void Frame(ChannelFrame frame)
    {
        Interlocked.Increment(ref _frames);
        if (frame.Kind == ChannelFrameKind.Batch)
        {
            Interlocked.Increment(ref _batchFrames);
            Interlocked.Add(ref _events, frame.Count);
            Interlocked.Add(ref _bytes, frame.Columns?.Length ?? 0);
        }
        else if (frame.Kind == ChannelFrameKind.Watermark)
        {
            Interlocked.Increment(ref _watermarkFrames);
        }
    }

    /// <summary>Gets the counts so far.</summary>
    public (long Calls, long Frames, long BatchFrames, long WatermarkFrames, long Events, long Bytes) Read() =>
        (Volatile.Read(ref _calls), Volatile.Read(ref _frames), Volatile.Read(ref _batchFrames), Volatile.Read(ref _watermarkFrames), Volatile.Read(ref _events), Volatile.Read(ref _bytes));

    /// <summary>Describes the counts since <paramref name="before"/>, per input event where <paramref name="inputEvents"/> is given.</summary>
    public string Describe((long Calls, long Frames, long BatchFrames, long WatermarkFrames, long Events, long Bytes) before, long inputEvents)
    {
        var now = Read();
        long calls = now.Calls - before.Calls, frames = now.Frames - before.Frames, batches = now.BatchFrames - before.BatchFrames;
        long watermarks = now.WatermarkFrames - before.WatermarkFrames, events = now.Events - before.Events, bytes = now.Bytes - before.Bytes;
        return string.Create(CultureInfo.InvariantCulture,
            $"{Name}: {calls:N0} calls, {frames:N0} frames ({batches:N0} batches, {watermarks:N0} watermarks; {(double)frames / Math.Max(1, calls):F2} frames per call), {events:N0} events ({(double)events / Math.Max(1, batches):F1} per batch frame, {(double)bytes / Math.Max(1, events):F1} B each), {1000.0 * calls / Math.Max(1, inputEvents):F2} calls and {1000.0 * frames / Math.Max(1, inputEvents):F2} frames per 1,000 input events");
    }
}
