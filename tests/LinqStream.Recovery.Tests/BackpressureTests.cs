using System.Globalization;
using Xunit.Abstractions;

namespace LinqStream.Recovery.Tests;

/// <summary>
/// A source that offers events ten times faster than the sink takes them must be slowed down, not buffered: the host process's
/// memory stays flat and the events handed over by the source stay within the engine's bounded queues ahead of the sink.
/// </summary>
[Trait("Category", "Slow")] // Slow (fast suite skips it): runs the CLI host in child processes
public sealed class BackpressureTests(ITestOutputHelper output)
{
    private const long Rate = 200_000;
    private const long Drain = 20_000;
    private const int Payload = 200;

    /// <summary>Bytes one buffered event would hold: the payload string (UTF-16, with its header) and the record around it.</summary>
    private const long BytesPerEvent = (2 * Payload) + 24 + 40;

    /// <summary>
    /// What the engine may hold between source and sink, in batches: 8 queued chunks per source, one being read, and the results of
    /// one step (at most the chunks that were queued) waiting for the sink.
    /// </summary>
    private const int BoundedBatches = 20;

    [Fact]
    public async Task SourceTenTimesFasterThanSink_MemoryStaysBounded_SourceIsSlowedDown()
    {
        using var host = HostProcess.Start(
            "backpressure", "--seconds", "4", "--rate", Rate.ToString(CultureInfo.InvariantCulture),
            "--drain", Drain.ToString(CultureInfo.InvariantCulture), "--payload", Payload.ToString(CultureInfo.InvariantCulture));
        int code = await host.WaitForExitAsync(TimeSpan.FromSeconds(60));
        string transcript = host.Transcript();
        output.WriteLine(transcript);
        Assert.True(code == 0, $"the host exited with {code}:\n{transcript}\n{await host.ErrorsAsync()}");

        var lines = transcript.Split('\n');
        long batch = Field(lines.Single(l => l.StartsWith("start ", StringComparison.Ordinal)), "batch");
        var samples = lines.Where(l => l.StartsWith("sample ", StringComparison.Ordinal))
            .Select(l => (Ms: Field(l, "ms"), Ws: Field(l, "ws"), Managed: Field(l, "managed"), Offered: Field(l, "offered"), Produced: Field(l, "produced"), Consumed: Field(l, "consumed")))
            .ToList();
        Assert.True(samples.Count >= 10, $"only {samples.Count} samples in 4 s");
        var last = samples[^1];

        // The input really arrived faster: by the end the source had offered many times what the sink took, and the sink took
        // only what its rate allows.
        Assert.True(last.Offered >= 5 * last.Consumed, $"offered {last.Offered}, consumed {last.Consumed}: the source was not much faster than the sink");
        Assert.True(last.Consumed <= Drain * last.Ms / 1000 + batch, $"the sink took {last.Consumed} events in {last.Ms} ms, more than {Drain}/s");
        Assert.True(last.Consumed > 0, "the sink took nothing");

        // The producer was slowed down: it handed over no more than the engine's bounded queues hold ahead of the sink.
        long bound = BoundedBatches * batch;
        var worst = samples.MaxBy(s => s.Produced - s.Consumed);
        Assert.True(
            worst.Produced - worst.Consumed <= bound,
            $"at {worst.Ms} ms the source had handed over {worst.Produced} events and the sink taken {worst.Consumed}: {worst.Produced - worst.Consumed} in flight, more than {BoundedBatches} batches of {batch}");

        // Memory stays flat. Buffering everything offered but not yet taken would have needed this much more:
        long unbounded = (last.Offered - last.Consumed) * BytesPerEvent;
        long baseline = samples[0].Ws;
        long growth = samples.Max(s => s.Ws) - baseline;
        long managed = samples.Max(s => s.Managed);
        output.WriteLine($"working set {baseline / 1e6:F1} MB at first, peak +{growth / 1e6:F1} MB; managed heap peak {managed / 1e6:F1} MB; unbounded buffering would have held {unbounded / 1e6:F0} MB; worst in flight {worst.Produced - worst.Consumed} events (bound {bound})");
        Assert.True(
            growth < unbounded / 4,
            $"the working set grew by {growth / 1e6:F1} MB (from {baseline / 1e6:F1} MB); buffering the {last.Offered - last.Consumed} events offered but not taken would need {unbounded / 1e6:F0} MB, and the bound is a quarter of that");
        Assert.True(
            managed < unbounded / 4,
            $"the managed heap reached {managed / 1e6:F1} MB; buffering the offered events would need {unbounded / 1e6:F0} MB, and the bound is a quarter of that");
    }

    private static long Field(string line, string name)
    {
        foreach (var part in line.Split(' '))
        {
            if (part.StartsWith(name + "=", StringComparison.Ordinal))
            {
                return long.Parse(part.AsSpan(name.Length + 1), CultureInfo.InvariantCulture);
            }
        }

        throw new FormatException($"No {name}= in '{line}'.");
    }
}
