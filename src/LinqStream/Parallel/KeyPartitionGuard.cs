using LinqStream.Runtime;
using LinqStream.Runtime.Ingress;

namespace LinqStream.Parallel;

/// <summary>
/// Checks, on a partition's source task in a forward plan, that every event's key is in the key groups its partition declared
/// (<c>QStream.FromKeyPartitioned</c>): a forward exchange trusts that each key's events are all in one task's partitions, so an
/// event whose key group belongs to another partition would be aggregated apart from its key's other events (a silently wrong
/// answer). Such an event stops the query (or, under <see cref="ErrorPolicy.SkipAndDeadLetter"/>, is dead-lettered and skipped)
/// with the partition, the event's place in it, its key and both key groups.
/// </summary>
/// <remarks>
/// Per batch one key-kernel call and the stable hashes; per event one key-group computation and two compares; nothing allocated.
/// An event whose key selector throws is passed on unchecked: the window operator runs the selector again and applies
/// <see cref="QueryOptions.OnError"/> to it exactly as at parallelism 1.
/// </remarks>
internal sealed class KeyPartitionGuard<T, TKey> : IStreamObserver<T>
{
    private readonly IStreamObserver<T> _downstream;
    private readonly Action<T[], ulong[]?, TKey[], int> _keyKernel;
    private readonly KeyPartitioning _declared;
    private readonly string _partitionName;
    private readonly QueryContext _context;
    private readonly int _first;
    private readonly int _end;
    private readonly int _keyGroups;
    private TKey[] _keys = [];
    private ulong[] _hashes = [];
    private bool[] _failed = [];
    private long _passed; // events this partition passed on to the aggregate in this run

    public KeyPartitionGuard(IStreamObserver<T> downstream, Action<T[], ulong[]?, TKey[], int> keyKernel, KeyPartitioning declared, string partitionName, QueryContext context)
    {
        _downstream = downstream;
        _keyKernel = keyKernel;
        _declared = declared;
        _partitionName = partitionName;
        _context = context;
        _keyGroups = declared.KeyGroups;
        (_first, _end) = (declared.First, declared.End);
    }

    public void OnBatch(EventBatch<T> batch)
    {
        int count = batch.Count;
        if (_keys.Length < count)
        {
            _keys = new TKey[batch.Capacity];
            _hashes = new ulong[batch.Capacity];
            _failed = new bool[batch.Capacity];
        }

        bool anyFailed = ComputeHashes(batch);
        var hashes = _hashes;
        var absent = batch.Absent;
        for (int i = 0; i < count; i++)
        {
            if ((absent[i >> 6] & (1UL << i)) != 0)
            {
                continue;
            }

            int group = KeyGroups.Of(hashes[i], _keyGroups);
            if ((uint)(group - _first) >= (uint)(_end - _first) && !(anyFailed && _failed[i]))
            {
                Misrouted(batch, i, group);
            }
        }

        _passed += count;
        _downstream.OnBatch(batch);
    }

    /// <summary>Computes each present event's key hash; true when the key selector threw for some events (marked in <see cref="_failed"/>).</summary>
    private bool ComputeHashes(EventBatch<T> batch)
    {
        int count = batch.Count;
        try
        {
            _keyKernel(batch.Payload, batch.Absent, _keys, count);
            StableKeyHash<TKey>.HashAll(_keys, batch.Absent, _hashes, count);
            return false;
        }
        catch (Exception)
        {
            // The rare path: find the events whose key throws, one at a time; they go on unchecked (the window operator decides them).
            var single = new T[1];
            var key = new TKey[1];
            for (int i = 0; i < count; i++)
            {
                _failed[i] = false;
                if (batch.IsAbsent(i))
                {
                    continue;
                }

                single[0] = batch.Payload[i];
                try
                {
                    _keyKernel(single, null, key, 1);
                    _keys[i] = key[0];
                    _hashes[i] = StableKeyHash<TKey>.Hash(key[0]);
                }
                catch (Exception)
                {
                    _failed[i] = true;
                }
            }

            return true;
        }
    }

    /// <summary>Event <paramref name="index"/> of the batch is not in its partition's key groups: stop, or dead-letter and skip it.</summary>
    private void Misrouted(EventBatch<T> batch, int index, int group)
    {
        long ordinal = _passed + index + 1;
        int owner = KeyGroups.TaskOf(group, _keyGroups, _declared.Partitions);
        string start = Temporal.Ticks.Format(batch.Start[index]);
        string reason = $"Partition {_declared.Index} ('{_partitionName}') of a source partitioned by '{_declared.Key}' into {_declared.Partitions} partitions of {_keyGroups} key groups "
            + $"holds an event whose key {Internal.Strings.Describe(_keys[index])} is in key group {group}, which belongs to partition {owner}; this partition holds key groups [{_first},{_end}). "
            + "The writer must put each key's events in KeyPartitioner.PartitionOf(key, partitions, keyGroups).";
        string position = $"event {ordinal} this run read from the partition, at {start}";
        var error = new QueryExecutionException($"{reason} ({position}: {Internal.Strings.Describe(batch.Payload[index])})");
        if (_context.Options.FailsOn(error))
        {
            throw error;
        }

        _context.DeadLetters.Write(DeadLetter.Create(_partitionName, position, reason, Internal.Strings.Describe(batch.Payload[index])));
        batch.SetAbsent(index);
    }

    public void OnWatermark(long watermark) => _downstream.OnWatermark(watermark);

    public void OnCompleted() => _downstream.OnCompleted();

    public void OnError(Exception error) => _downstream.OnError(error);
}
