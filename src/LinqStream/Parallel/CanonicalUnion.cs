using LinqStream.Physical.Union;
using LinqStream.Temporal;

namespace LinqStream.Parallel;

/// <summary>
/// The state of a union read by several source tasks, as the one union of parallelism 1 has it, and back: a checkpoint holds
/// it in that form, so it restores at any parallelism.
/// </summary>
/// <remarks>
/// At a barrier, an input's events are in one of three places: buffered in its source task's union (not yet sent), sent by
/// that union and buffered in an aggregate task's union (the "stash" of the source task; in the channels there is nothing
/// before an aligned barrier), or folded into the aggregate. The source task's union sent an event only when none of its
/// inputs could still produce one that comes earlier in (start, input index) order, so the stash comes before every event
/// of the group's inputs not yet sent. Its events are put in front of the buffer of the group's first input: compared with
/// any other group's input they order the same as under their own input's index (groups are contiguous), and they precede
/// everything else of their own group. So the one union over all inputs gives the same order per key as the tasks did.
/// The stash of one source task is spread over the tasks by key; merged by start (ties from the lower task first) it keeps
/// each key's events in their order, which is all the aggregates downstream see of it.
/// </remarks>
internal static class CanonicalUnion
{
    /// <summary>Builds parallelism 1's union state from each source task's union and each aggregate task's union (null for none).</summary>
    public static UnionState<T> Combine<T>(IReadOnlyList<UnionState<T>> sources, IReadOnlyList<UnionState<T>?> tasks)
    {
        long output = Ticks.Infinity;
        foreach (var task in tasks)
        {
            if (task is not null)
            {
                output = Math.Min(output, task.OutputWatermark);
            }
        }

        if (output == Ticks.Infinity)
        {
            output = sources.Min(s => s.OutputWatermark);
        }

        var inputs = new List<UnionInputState<T>>();
        for (int s = 0; s < sources.Count; s++)
        {
            var stash = Stash(tasks, s);
            var own = sources[s].Inputs;
            for (int k = 0; k < own.Count; k++)
            {
                var input = own[k];
                if (k == 0 && stash.Count > 0)
                {
                    input = input with { Buffered = [.. stash, .. input.Buffered] };
                }

                inputs.Add(input);
            }
        }

        return new UnionState<T>(output, inputs);
    }

    /// <summary>
    /// Loads parallelism 1's union state into the source tasks' unions (each its contiguous group of inputs) and leaves the
    /// aggregate tasks' unions empty (their inputs wait for the source tasks again); both keep the output watermark already sent.
    /// </summary>
    public static void Distribute<T>(UnionState<T> union, IReadOnlyList<UnionOperator<T>> sources, IReadOnlyList<UnionOperator<T>?> tasks)
    {
        for (int s = 0; s < sources.Count; s++)
        {
            sources[s].RestoreState(SourceShare(union, s, sources.Count));
        }

        foreach (var task in tasks)
        {
            task?.RestoreState(TaskShare<T>(union.OutputWatermark, sources.Count));
        }
    }

    /// <summary>Source task <paramref name="source"/>'s share of parallelism 1's union state (of <paramref name="sources"/>): its contiguous group of inputs.</summary>
    /// <remarks>Also what a task on another machine restores (the cluster's source tasks, docs/cluster.md).</remarks>
    public static UnionState<T> SourceShare<T>(UnionState<T> union, int source, int sources)
    {
        var (first, end) = KeyGroups.RangeOf(source, union.Inputs.Count, sources);
        var group = union.Inputs.Skip(first).Take(end - first).ToList();
        if (group.TrueForAll(i => i.Completed))
        {
            // Every input of the group had ended: their sources end again when replayed, and that completion (which the
            // aggregate tasks wait for) must go through this union once more, so it must not think them ended already.
            group = [.. group.Select(i => i with { Completed = false })];
        }

        return new UnionState<T>(union.OutputWatermark, group);
    }

    /// <summary>An aggregate task's union after a restore: one empty input per source task, the output watermark already sent.</summary>
    public static UnionState<T> TaskShare<T>(long outputWatermark, int sources)
    {
        var fresh = new UnionInputState<T>(Ticks.MinusInfinity, Ticks.MinusInfinity, false, []);
        return new UnionState<T>(outputWatermark, [.. Enumerable.Repeat(fresh, sources)]);
    }

    /// <summary>The events source task <paramref name="source"/> sent that the aggregate tasks' unions still hold, merged by start, ties from the lower task.</summary>
    private static List<StreamEvent<T>> Stash<T>(IReadOnlyList<UnionState<T>?> tasks, int source)
    {
        var lists = tasks.Where(t => t is not null).Select(t => t!.Inputs[source].Buffered).Where(b => b.Count > 0).ToArray();
        var merged = new List<StreamEvent<T>>(lists.Sum(l => l.Count));
        var next = new int[lists.Length];
        while (true)
        {
            int best = -1;
            for (int i = 0; i < lists.Length; i++)
            {
                if (next[i] < lists[i].Count && (best < 0 || lists[i][next[i]].Start < lists[best][next[best]].Start))
                {
                    best = i;
                }
            }

            if (best < 0)
            {
                return merged;
            }

            merged.Add(lists[best][next[best]++]);
        }
    }
}
