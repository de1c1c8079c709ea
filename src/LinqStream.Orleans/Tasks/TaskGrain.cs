using LinqStream.Orleans.Channels;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace LinqStream.Orleans.Tasks;

/// <summary>
/// Runs one task of a job spread over silos on the silo Orleans placed it on (where the coordinator asked), and receives its
/// input channels' frames into this silo's <see cref="ChannelHub"/>. The task's threads run outside the grain's turns; the grain
/// answers the coordinator's calls (barriers, polls, stop) while they run, so it is reentrant (its state is thread-safe).
/// </summary>
/// <remarks>
/// A task never outlives its epoch: every second it reads the job's fence, and when a newer epoch holds it (the coordinator rolled
/// the job back, or another coordinator took over) it stops. Its senders are fenced too: the receivers of the new epoch refuse
/// its frames.
/// </remarks>
[Reentrant]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "Its token source is cancelled on deactivation and never disposed: the fence watch may still register on it, and without a timer it holds nothing to release.")]
internal sealed partial class TaskGrain(ChannelHub hub, JobRegistry registry, ILocalSiloDetails silo, IServiceProvider services, IGrainFactory grains, TimeProvider time, ILogger<TaskGrain> logger)
    : Grain, ITaskGrain
{
    private static readonly TimeSpan FenceCheck = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _deactivating = new();
    private volatile Running? _running;
    private int _starting;

    private string Key => this.GetPrimaryKeyString();

    public Task<SiloAddress> OpenAsync(string channel, long epoch, int capacity)
    {
        hub.Open(Key, channel, epoch, capacity);
        return Task.FromResult(silo.SiloAddress);
    }

    public Task<ChannelAck> PushAsync(string channel, ChannelFrame[] frames) => Task.FromResult(hub.Push(Key, channel, frames));

    public Task<ChannelAck> WaitForCreditAsync(string channel, long epoch, long sequence) =>
        hub.Find(Key, channel) is { } receiver
            ? receiver.WaitForCreditAsync(epoch, sequence, ChannelEndpointGrain.CreditWait)
            : Task.FromResult(new ChannelAck(ChannelAckStatus.NotOpen, 0, 0, 0));

    public async Task<SiloAddress> StartAsync(TaskSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (_running is { } running)
        {
            throw new InvalidOperationException($"Task {Key} already runs epoch {running.Spec.Epoch}; every epoch starts new task grains.");
        }

        if (Interlocked.Exchange(ref _starting, 1) != 0)
        {
            throw new InvalidOperationException($"Task {Key} is already starting; every epoch starts new task grains.");
        }

        if (spec.Index != TaskSpec.SourceTask)
        {
            for (int s = 0; s < spec.SourceCount; s++)
            {
                hub.Open(Key, TaskSpec.SourceName(s, spec.SourceCount), spec.Epoch, 8); // the inputs, before the source tasks (started after this one) send to them
            }
        }

        // Building the query compiles a script job's .csx (seconds, on a loaded machine tens of seconds): on the thread pool, not
        // on the silo's scheduler, whose threads also answer the membership's probes (blocked, they made the silo look dead).
        var started = await Task.Run(() => Build(spec)).ConfigureAwait(true);
        LogStarted(logger, spec.JobId, spec.Epoch, spec.Name, silo.SiloAddress);
        _ = Task.Run(() => FenceWatch.RunAsync(registry, spec, FenceCheck, time, () => started.Stopped == 1, () =>
        {
            LogFenced(logger, spec.JobId, spec.Epoch, spec.Name);
            StopRun(started);
        }, _deactivating.Token));
        return silo.SiloAddress;
    }

    /// <summary>Builds this task's part of the job's query from its definition, restores its state and starts its threads.</summary>
    private Running Build(TaskSpec spec)
    {
        var definition = registry.Options.Find(spec.Submission.Definition)
            ?? throw new InvalidOperationException($"The silo {silo.SiloAddress} has no job definition named '{spec.Submission.Definition}': register it with AddJob on every silo.");
        var fence = new RedisFence(registry.FenceKey(spec.JobId), spec.Epoch);
        var store = new RedisCheckpointStore(registry.Options.Redis, registry.CheckpointPrefix(spec.JobId), fence); // never written by a task
        var metrics = new JobMetrics(spec.JobId, time);
        var host = ClusterParallelHost.ForTask(spec, Key, grains, hub, time);
        ClusterJobRun? job = null;
        try
        {
            // The definition builds the whole query; the host keeps this task's part of it, and the rest is never run.
            job = definition(new ClusterJobContext(spec.JobId, spec.Submission, fence, registry.Options.Redis, store, metrics, services, host, spec.Name));
            var part = host.Task ?? throw new InvalidOperationException(
                $"The query of job '{spec.JobId}' (definition '{spec.Submission.Definition}') has no keyed window aggregate to run as {spec.Name}: a job spread over silos needs one.");
            var running = new Running(spec, part, job, store, metrics);
            _running = running;
            part.Start();
            return running;
        }
        catch
        {
            if (_running is null)
            {
                store.Dispose();
                metrics.Dispose();
                if (job is not null)
                {
                    _ = job.DisposeAsync().AsTask();
                }

                Close(spec);
            }

            throw;
        }
    }

    public Task<byte[][]> BarrierAsync(long epoch, long id) => Source(epoch).BarrierAsync(id);

    public Task<byte[][]> FinalStateAsync(long epoch) => Source(epoch).FinalStateAsync();

    public Task<TaskProgress> ProgressAsync(long epoch) =>
        Task.FromResult(_running is { Stopped: 0 } running && running.Spec.Epoch == epoch
            ? running.Part.Progress
            : new TaskProgress(TaskRunState.NotRunning, 0, 0, 0, null));

    public async Task StopAsync(long epoch)
    {
        if (_running is { } running && running.Spec.Epoch == epoch)
        {
            await Task.Run(() => StopRun(running)).ConfigureAwait(true);
            DeactivateOnIdle();
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await _deactivating.CancelAsync();
        if (_running is { } running)
        {
            await Task.Run(() => StopRun(running), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        }

        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    private ISourceTask Source(long epoch) =>
        _running is { Part: ISourceTask source } running && running.Spec.Epoch == epoch
            ? source
            : throw new InvalidOperationException($"Task {Key} is not a running source task of epoch {epoch}.");

    private void StopRun(Running running)
    {
        if (Interlocked.Exchange(ref running.Stopped, 1) != 0)
        {
            return;
        }

        if (!running.Part.Stop(StopWait))
        {
            LogSlowStop(logger, running.Spec.JobId, running.Spec.Epoch, running.Spec.Name);
        }

        Close(running.Spec);
        running.Store.Dispose();
        running.Metrics.Dispose();
        _ = running.Job.DisposeAsync().AsTask().ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
    }

    private void Close(TaskSpec spec)
    {
        if (spec.Index != TaskSpec.SourceTask)
        {
            for (int s = 0; s < spec.SourceCount; s++)
            {
                hub.Close(Key, TaskSpec.SourceName(s, spec.SourceCount));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} epoch {Epoch}: {Task} starts on {Silo}")]
    private static partial void LogStarted(ILogger logger, string jobId, long epoch, string task, SiloAddress silo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} epoch {Epoch}: {Task} stops, the job's fence holds a newer epoch")]
    private static partial void LogFenced(ILogger logger, string jobId, long epoch, string task);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} epoch {Epoch}: the threads of {Task} did not end in time")]
    private static partial void LogSlowStop(ILogger logger, string jobId, long epoch, string task);

    private sealed class Running(TaskSpec spec, ITaskRun part, ClusterJobRun job, RedisCheckpointStore store, JobMetrics metrics)
    {
        public int Stopped;

        public TaskSpec Spec { get; } = spec;

        public ITaskRun Part { get; } = part;

        public ClusterJobRun Job { get; } = job;

        public RedisCheckpointStore Store { get; } = store;

        public JobMetrics Metrics { get; } = metrics;
    }
}
