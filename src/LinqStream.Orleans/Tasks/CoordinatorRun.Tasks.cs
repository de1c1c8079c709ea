using LinqStream.Orleans.Channels;

namespace LinqStream.Orleans.Tasks;

/// <summary>The coordinator's watch over the tasks (a poll every 200 ms; the first task lost ends the run) and the bridges that feed each keyed task's frames, in order, into the merge.</summary>
internal sealed partial class CoordinatorRun<T, TKey, TResult>
{
    /// <summary>Polls every task; the first that is gone, failed or does not answer ends the run with <see cref="ClusterTaskLostException"/>.</summary>
    private async Task MonitorAsync()
    {
        var token = _stop.Token;
        int sources = _sourceTasks.Length;
        var tasks = _sourceTasks.Concat(_tasks).ToArray();
        var names = Enumerable.Range(0, sources).Select(s => TaskSpec.SourceName(s, sources)).Concat(Enumerable.Range(0, _tasks.Length).Select(TaskSpec.TaskName)).ToArray();
        try
        {
            while (!token.IsCancellationRequested)
            {
                var polls = tasks.Select(t => t.ProgressAsync(_setup.Epoch)).ToArray();
                long read = 0, late = 0, max = Temporal.Ticks.MinusInfinity;
                for (int i = 0; i < polls.Length; i++)
                {
                    TaskProgress progress;
                    try
                    {
                        progress = await polls[i].WaitAsync(CallLimit, _setup.Time, token).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !token.IsCancellationRequested)
                    {
                        Lose(new ClusterTaskLostException($"The {names[i]} task of job '{_setup.JobId}' (epoch {_setup.Epoch}) does not answer: {ex.Message}", ex));
                        return;
                    }

                    if (i < sources)
                    {
                        read += progress.EventsRead;
                        late += progress.LateEvents;
                        max = Math.Max(max, progress.MaxEventTime);
                        if (i == sources - 1)
                        {
                            Volatile.Write(ref _eventsRead, read);
                            Volatile.Write(ref _lateEvents, late);
                            Volatile.Write(ref _maxEventTime, max);
                        }
                    }

                    if (progress.State is TaskRunState.NotRunning or TaskRunState.Failed)
                    {
                        Lose(new ClusterTaskLostException(progress.State == TaskRunState.NotRunning
                            ? $"The {names[i]} task of job '{_setup.JobId}' (epoch {_setup.Epoch}) runs no more: its silo lost it."
                            : $"The {names[i]} task of job '{_setup.JobId}' (epoch {_setup.Epoch}) failed: {progress.Error}"));
                        return;
                    }
                }

                await Task.Delay(PollInterval, _setup.Time, token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The run stopped.
        }
    }

    /// <summary>Keyed task <paramref name="task"/>'s frames, in order, into its in-process channel to the merge.</summary>
    private void Bridge(int task)
    {
        var receiver = _receivers[task]!;
        var output = _outputs[task];
        var codec = _codecs[task];
        var token = _stop.Token;
        try
        {
            while (true)
            {
                if (!receiver.TryTake(out var frame))
                {
                    receiver.WaitForFrameAsync(token).GetAwaiter().GetResult();
                    continue;
                }

                switch (frame.Kind)
                {
                    case ChannelFrameKind.Batch:
                        var batch = output.BeginBatch();
                        if (batch is null)
                        {
                            frame.Release();
                            return; // closed: the job stopped
                        }

                        try
                        {
                            codec.Decode(receiver.Name, frame, batch);
                        }
                        finally
                        {
                            frame.Release();
                        }

                        output.PublishBatch();
                        if (frame.WatermarkAfter)
                        {
                            output.SendWatermark(frame.Value); // a coalesced frame's watermark, after its events
                        }

                        break;
                    case ChannelFrameKind.Watermark:
                        output.SendWatermark(frame.Value);
                        break;
                    case ChannelFrameKind.Barrier:
                        string at = $"{TaskSpec.TaskName(task)} with barrier {frame.Value}";
                        var slice = SliceCodec.Read(frame.Payload, at, out var union);
                        _slices[task] = (frame.Value, slice, ReadUnion(union, at));
                        output.SendBarrier(frame.Value);
                        break;
                    case ChannelFrameKind.Completed:
                        string final = $"{TaskSpec.TaskName(task)} with its completion";
                        var finalSlice = SliceCodec.Read(frame.Payload, final, out var finalUnion);
                        _finalSlices[task] = (finalSlice, ReadUnion(finalUnion, final));
                        output.SendCompleted();
                        return;
                    case ChannelFrameKind.Error:
                        output.SendError(new RemoteTaskException(System.Text.Encoding.UTF8.GetString(frame.Payload)));
                        return;
                    default:
                        throw new InvalidDataException($"Channel '{receiver.Name}' received frame {frame.Sequence} of epoch {frame.Epoch} of unknown kind {(byte)frame.Kind}.");
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            if (_lost.Task.IsCompleted)
            {
                output.SendError(_lost.Task.Result);
            }
        }
        catch (Exception ex)
        {
            output.SendError(ex);
        }
    }
}
