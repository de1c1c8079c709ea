namespace LinqStream.Parallel;

/// <summary>
/// Key groups: the fixed number of buckets (Flink's max parallelism) that keys are hashed into; a task owns a contiguous
/// range of them, so keyed state can be split per key group and given to another number of tasks.
/// </summary>
internal static class KeyGroups
{
    /// <summary>The key group of a stable key hash: the top of the hash scaled to <paramref name="count"/>, so key groups follow hash order.</summary>
    public static int Of(ulong hash, int count) => (int)(((hash >> 32) * (ulong)count) >> 32);

    /// <summary>The task that owns <paramref name="group"/> (Flink's <c>keyGroup * parallelism / maxParallelism</c>).</summary>
    public static int TaskOf(int group, int count, int parallelism) => (int)((long)group * parallelism / count);

    /// <summary>The key groups task <paramref name="task"/> owns: [first, end).</summary>
    public static (int First, int End) RangeOf(int task, int count, int parallelism) =>
        (FirstOf(task, count, parallelism), FirstOf(task + 1, count, parallelism));

    /// <summary>
    /// The key groups task <paramref name="task"/> of <paramref name="tasks"/> owns in a forward plan over <paramref name="partitions"/>
    /// partitions partitioned by key: its contiguous group of partitions (as source tasks get them) and, so, the key groups those
    /// partitions hold (partition p of n holds the range task p of n would own).
    /// </summary>
    public static (int First, int End) ForwardRangeOf(int task, int tasks, int partitions, int count)
    {
        var (first, end) = RangeOf(task, partitions, tasks);
        return (FirstOf(first, count, partitions), FirstOf(end, count, partitions));
    }

    /// <summary>A table from key group to owning task.</summary>
    public static int[] Owners(int count, int parallelism)
    {
        var owners = new int[count];
        for (int g = 0; g < count; g++)
        {
            owners[g] = TaskOf(g, count, parallelism);
        }

        return owners;
    }

    private static int FirstOf(int task, int count, int parallelism) => (int)(((long)task * count + parallelism - 1) / parallelism);
}
