using LinqStream.Connectors.Tests.Redis;
using LinqStream.Connectors.Tests.Servers;
using LinqStream.Testing.Nexmark;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace LinqStream.Connectors.Tests.Nats;

/// <summary>
/// The faults of issue #23 on NATS: a fetch cut short by a stopped or paused server, a publish answered "duplicate" after a
/// pause, and input purged, deleted or made again. Each test owns its server, or a subject nobody else uses, and has a bound.
/// </summary>
[Trait("Category", "Slow")] // Slow (fast suite skips it): needs real redis-server / nats-server processes
public sealed class NatsFaultTests
{
    private static readonly ReconnectPolicy s_fast = new() { InitialDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(200) };

    [Fact]
    public async Task ReadAsync_ServerTerminatedMidFetchFourTimes_LosesAndRepeatsNothing()
    {
        using var server = ServerProcess.StartNats();
        var url = $"nats://127.0.0.1:{server.Port}";
        var bids = RedisTestData.Bids(20_000);
        await NatsTestData.PublishAsync(url, "bids", bids);

        await using var source = new NatsJetStreamSource<Bid>(url, "bids", RedisTestData.BidJson, new() { Reconnect = s_fast, StopAtEnd = true });
        await source.OpenAsync(SourceDriving.Context(), null, CancellationToken.None);
        var events = await FaultyReading.ReadAsync(
            source, bids.Length, () => (long)source.LastSequence, [2_000, 6_000, 11_000, 16_000],
            _ =>
            {
                server.Terminate();
                server.Start();
            },
            TimeSpan.FromSeconds(90));

        AssertSameBids(bids, events);
    }

    [Fact]
    public async Task ReadAsync_ServerPausedMidFetchLongerThanTheRequestTimeout_LosesAndRepeatsNothing()
    {
        using var server = ServerProcess.StartNats();
        var url = $"nats://127.0.0.1:{server.Port}";
        var bids = RedisTestData.Bids(20_000);
        await NatsTestData.PublishAsync(url, "bids", bids);

        await using var source = new NatsJetStreamSource<Bid>(url, "bids", RedisTestData.BidJson, new() { Reconnect = s_fast, StopAtEnd = true });
        var statuses = new List<ConnectionStatus>();
        source.StatusChanged += (_, status) => statuses.Add(status);
        await source.OpenAsync(SourceDriving.Context(), null, CancellationToken.None);
        var events = await FaultyReading.ReadAsync(
            source, bids.Length, () => (long)source.LastSequence, [3_000, 12_000],
            _ =>
            {
                server.Pause();
                Thread.Sleep(TimeSpan.FromSeconds(6));
                server.Resume();
            },
            TimeSpan.FromSeconds(90));

        AssertSameBids(bids, events);
    }

    [Fact]
    public async Task Sink_ServerPausedLongerThanTheAckTimeout_TakesTheDuplicateAnswerAsSuccessAndWritesEachResultOnce()
    {
        using var server = ServerProcess.StartNats();
        var url = $"nats://127.0.0.1:{server.Port}";
        var bids = RedisTestData.Bids(3_000);
        await using var sink = new NatsJetStreamSink<Bid>(url, "out", RedisTestData.BidJson, new() { ChunkSize = 200, Reconnect = s_fast });
        var statuses = new List<ConnectionStatus>();
        sink.StatusChanged += (_, status) => statuses.Add(status);
        await sink.OpenAsync(null, CancellationToken.None);
        await sink.WriteAsync(bids.AsMemory(0, 1_000), CancellationToken.None);

        server.Pause();
        var resume = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(8));
            server.Resume();
        });
        await sink.WriteAsync(bids.AsMemory(1_000), CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        await sink.CompleteAsync(CancellationToken.None);
        await resume;

        var written = await NatsTestData.ReadAllAsync(url, "out");
        Assert.Equal(bids, written.Select(w => w.Bid));
        Assert.Equal(Enumerable.Range(1, bids.Length).Select(i => "out-" + i), written.Select(w => w.Id));
        Assert.Contains(statuses, s => s.State == ConnectionState.Reconnecting && s.Error is not null);
        Assert.Equal(ConnectionState.Connected, sink.Status.State);
    }

    [Fact]
    public async Task Sink_ServerCameBackWithoutItsData_FailsClearlyInsteadOfWritingOn()
    {
        using var server = ServerProcess.StartNats();
        var url = $"nats://127.0.0.1:{server.Port}";
        var bids = RedisTestData.Bids(600);
        await using var sink = new NatsJetStreamSink<Bid>(url, "out", RedisTestData.BidJson, new() { ChunkSize = 100, Reconnect = s_fast });
        await sink.OpenAsync(null, CancellationToken.None);
        await sink.WriteAsync(bids.AsMemory(0, 300), CancellationToken.None);

        server.KillAndWipe();
        server.Start();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => sink.WriteAsync(bids.AsMemory(300), CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(60)));

        Assert.Contains("out-300", error.Message, StringComparison.Ordinal);
        Assert.Contains("rather than write a stream with a hole in it", error.Message, StringComparison.Ordinal);
        Assert.Equal(ConnectionState.Failed, sink.Status.State);
    }

    [Fact]
    public async Task Sink_StreamLostItsLatestMessagesWithNoPublishFailing_FailsInsteadOfWritingOnAfterAHole()
    {
        // What the soak found: nats-server restarted and restored fewer messages than it had acknowledged, the client
        // reconnected between two writes, and the next publishes succeeded after the hole.
        var subject = SharedServers.UniqueName("out");
        var bids = RedisTestData.Bids(600);
        await using var sink = new NatsJetStreamSink<Bid>(SharedServers.Nats, subject, RedisTestData.BidJson, new() { ChunkSize = 100 });
        await sink.OpenAsync(null, CancellationToken.None);
        await sink.WriteAsync(bids.AsMemory(0, 300), CancellationToken.None);
        await using (var connection = NatsTestData.Connect(SharedServers.Nats))
        {
            var js = new NatsJSContext(connection);
            await js.DeleteStreamAsync(subject);
            await js.CreateStreamAsync(new StreamConfig(subject, [subject]));
            foreach (var i in Enumerable.Range(1, 100))
            {
                var headers = new NATS.Client.Core.NatsHeaders { ["Nats-Msg-Id"] = $"{subject}-{i}" };
                (await js.PublishAsync(subject, NatsTestData.Utf8("{}"), headers: headers)).EnsureSuccess();
            }
        }

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => sink.WriteAsync(bids.AsMemory(300), CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(60)));

        Assert.Contains("went backwards", error.Message, StringComparison.Ordinal);
        Assert.Contains("already acknowledged sequence 300", error.Message, StringComparison.Ordinal);
        Assert.Equal(ConnectionState.Failed, sink.Status.State);
    }

    [Fact]
    public async Task OpenAsync_StreamPurgedPastTheSavedPosition_FailsNamingTheGap()
    {
        var (subject, position) = await ReadHalfThenAsync(100, 50, async (js, stream) => await js.PurgeStreamAsync(stream, new StreamPurgeRequest()));
        await using var source = new NatsJetStreamSource<Bid>(SharedServers.Nats, subject, RedisTestData.BidJson, new() { StopAtEnd = true });
        await source.OpenAsync(SourceDriving.Context(), position, CancellationToken.None);

        var error = await Assert.ThrowsAsync<InputGapException>(() => SourceDriving.ReadAsync(source, int.MaxValue, timeout: TimeSpan.FromSeconds(30)));

        Assert.Equal(50, error.Gap.Skipped);
        Assert.Equal("sequence 50", error.Gap.After);
        Assert.Equal("sequence 101", error.Gap.ResumesAt);
        Assert.Contains("InputGapPolicy.Skip", error.Message, StringComparison.Ordinal);
        Assert.Equal(ConnectionState.Failed, source.Status.State);
    }

    [Fact]
    public async Task OpenAsync_StreamPurgedWithSkipPolicy_GoesOnFromTheFirstMessageAndCountsTheSkipped()
    {
        var bids = RedisTestData.Bids(120);
        var (subject, position) = await ReadHalfThenAsync(100, 50, async (js, stream) => await js.PurgeStreamAsync(stream, new StreamPurgeRequest()));
        await NatsTestData.PublishAsync(SharedServers.Nats, subject, bids[100..]);
        await using var source = new NatsJetStreamSource<Bid>(SharedServers.Nats, subject, RedisTestData.BidJson, new() { StopAtEnd = true, OnGap = InputGapPolicy.Skip });
        var gaps = new List<InputGap>();
        source.GapSkipped += (_, gap) => gaps.Add(gap);
        await source.OpenAsync(SourceDriving.Context(), position, CancellationToken.None);

        var (events, _) = await SourceDriving.ReadAsync(source, int.MaxValue, timeout: TimeSpan.FromSeconds(30));

        Assert.Equal(bids[100..], events);
        Assert.Equal(50, Assert.Single(gaps).Skipped);
        Assert.Equal(50, source.SkippedMessages);
    }

    [Fact]
    public async Task OpenAsync_StreamDeletedAndMadeAgainWithMoreMessages_FailsRatherThanReadTheNewStream()
    {
        var bids = RedisTestData.Bids(200);
        var (subject, position) = await ReadHalfThenAsync(100, 50, async (js, stream) => await js.DeleteStreamAsync(stream));
        await NatsTestData.PublishAsync(SharedServers.Nats, subject, bids);
        await using var source = new NatsJetStreamSource<Bid>(SharedServers.Nats, subject, RedisTestData.BidJson, new() { StopAtEnd = true });
        await source.OpenAsync(SourceDriving.Context(), position, CancellationToken.None);

        var error = await Assert.ThrowsAsync<InputGapException>(() => SourceDriving.ReadAsync(source, int.MaxValue, timeout: TimeSpan.FromSeconds(30)));

        Assert.Contains("deleted and made again", error.Message, StringComparison.Ordinal);
        Assert.Null(error.Gap.Skipped);
    }

    [Fact]
    public async Task ReadAsync_StreamDeletedMidRun_FailsInsteadOfEndingEarly()
    {
        var subject = SharedServers.UniqueName("bids");
        var bids = RedisTestData.Bids(2_000);
        await NatsTestData.PublishAsync(SharedServers.Nats, subject, bids);
        await using var source = new NatsJetStreamSource<Bid>(SharedServers.Nats, subject, RedisTestData.BidJson, new() { StopAtEnd = true, BatchSize = 100 });
        await source.OpenAsync(SourceDriving.Context(), null, CancellationToken.None);
        var (first, _) = await SourceDriving.ReadAsync(source, 300, bufferSize: 100);
        await using (var connection = NatsTestData.Connect(SharedServers.Nats))
        {
            await new NatsJSContext(connection).DeleteStreamAsync(subject);
        }

        var error = await Assert.ThrowsAsync<InputGapException>(() => SourceDriving.ReadAsync(source, int.MaxValue, bufferSize: 100, timeout: TimeSpan.FromSeconds(30)));

        Assert.Equal(bids[..300], first);
        Assert.Contains("was deleted", error.Message, StringComparison.Ordinal);
        Assert.Equal(ConnectionState.Failed, source.Status.State);
    }

    /// <summary>Publishes <paramref name="count"/> bids to a new subject, reads <paramref name="read"/> of them, then changes the stream.</summary>
    private static async Task<(string Subject, byte[] Position)> ReadHalfThenAsync(int count, int read, Func<NatsJSContext, string, Task> change)
    {
        var subject = SharedServers.UniqueName("bids");
        var bids = RedisTestData.Bids(count);
        await NatsTestData.PublishAsync(SharedServers.Nats, subject, bids);
        byte[] position;
        await using (var first = new NatsJetStreamSource<Bid>(SharedServers.Nats, subject, RedisTestData.BidJson))
        {
            await first.OpenAsync(SourceDriving.Context(), null, CancellationToken.None);
            var (events, _) = await SourceDriving.ReadAsync(first, read, bufferSize: read);
            Assert.Equal(bids[..read], events);
            position = first.GetPosition();
        }

        await using var connection = NatsTestData.Connect(SharedServers.Nats);
        await change(new NatsJSContext(connection), subject);
        return (subject, position);
    }

    private static void AssertSameBids(Bid[] expected, List<Bid> actual)
    {
        var missing = expected.Except(actual).Count();
        Assert.True(actual.Count == expected.Length && missing == 0, $"read {actual.Count} of {expected.Length} events; {missing} missing");
        Assert.Equal(expected, actual);
    }
}
