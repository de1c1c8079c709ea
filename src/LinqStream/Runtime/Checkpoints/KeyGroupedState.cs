namespace LinqStream.Runtime.Checkpoints;

/// <summary>
/// A part whose state is keyed (a keyed window aggregate): its checkpoint section is written per key group, so a task that owns
/// any range of key groups, at any parallelism, can load exactly its keys (rescaling; docs/parallelism.md).
/// </summary>
internal interface IKeyGroupedState : ICheckpointed
{
    /// <summary>Gets a value indicating whether the state is keyed; when not, the part writes one blob as any other part.</summary>
    bool IsKeyGrouped { get; }

    /// <summary>Writes the part's header and the records of the key groups [<paramref name="first"/>, <paramref name="end"/>) it holds.</summary>
    KeyGroupSlice WriteKeyGroups(int first, int end, int keyGroups);

    /// <summary>Loads the records of the key groups [<paramref name="first"/>, <paramref name="end"/>) of <paramref name="section"/> into this fresh part.</summary>
    void ReadKeyGroups(KeyGroupedSection section, int first, int end);
}

/// <summary>What one task wrote of a keyed part: its header (watermarks and the like) and one record block per key group of its range.</summary>
/// <param name="First">The first key group.</param>
/// <param name="End">One past the last key group.</param>
/// <param name="HeaderSource">The task's header, made when it is first read (see <see cref="Build"/>'s <c>completeHeader</c>).</param>
/// <param name="Counts">The number of records per key group of the range.</param>
/// <param name="Groups">The records per key group of the range.</param>
internal sealed record KeyGroupSlice(int First, int End, Lazy<byte[]> HeaderSource, int[] Counts, SectionBuffer[] Groups)
{
    /// <summary>Initializes a new instance of the <see cref="KeyGroupSlice"/> class with a header that is already whole (e.g. read back from bytes).</summary>
    public KeyGroupSlice(int first, int end, byte[] header, int[] counts, SectionBuffer[] groups)
        : this(first, end, new Lazy<byte[]>(header), counts, groups)
    {
    }

    /// <summary>Gets the task's header; the first read finishes it (it may wait for an asynchronous part of the snapshot).</summary>
    public byte[] Header => HeaderSource.Value;

    /// <summary>Gets the asynchronous part of the snapshot that <see cref="Header"/> waits for (completed when there is none): a job
    /// at parallelism 1 writes the checkpoint file once it completes, off the query's thread, instead of blocking on the header.</summary>
    public Task Ready { get; init; } = Task.CompletedTask;

    /// <summary>Builds a slice by letting <paramref name="writeRecords"/> write each record into the writer of its key group.</summary>
    /// <remarks>Each key group's records go into segments that are never regrown or copied (<see cref="SectionBuffer"/>), so the
    /// slice holds the serialized state once; <see cref="KeyGroupedSection.Write"/> then streams them into the section.
    /// <paramref name="writeHeader"/> runs now; <paramref name="completeHeader"/>, when given, appends the rest of the header when
    /// the section is written (on the thread that writes the checkpoint, not the task's): a part whose snapshot has a slow
    /// asynchronous phase (the RocksDB store's flush) lets the task go on meanwhile, and passes that phase as <paramref name="ready"/>
    /// (<see cref="Ready"/>), after which <paramref name="completeHeader"/> does not block. With <paramref name="recordsLater"/>,
    /// <paramref name="writeRecords"/> runs on a pool thread once <paramref name="ready"/> has ended (it must write state the caller
    /// keeps unchanged until then: a copy, or slots frozen copy-on-write) and is part of <see cref="Ready"/>; <see cref="Header"/> waits
    /// for it, and <see cref="KeyGroupedSection.Write"/> reads every header before any group.</remarks>
    public static KeyGroupSlice Build(
        int first,
        int end,
        Action<BinaryWriter> writeHeader,
        Action<Func<int, BinaryWriter>> writeRecords,
        Action<BinaryWriter>? completeHeader = null,
        Task? ready = null,
        bool recordsLater = false)
    {
        byte[] start;
        using (var header = new MemoryStream())
        {
            using (var writer = new BinaryWriter(header))
            {
                writeHeader(writer);
            }

            start = header.ToArray();
        }

        int width = end - first;
        var groups = new SectionBuffer[width];
        var counts = new int[width];
        if (recordsLater)
        {
            // The records are written on a pool thread (from the state as the caller froze it at the cut), while the task goes on,
            // after the caller's asynchronous part (whether it succeeded or not: the caller learns from the records' end that the
            // frozen state is free); the slice is ready, and its header readable, once both are done.
            var records = ready is null
                ? Task.Run(() => WriteRecords(first, end, groups, counts, writeRecords))
                : ready.ContinueWith(_ => WriteRecords(first, end, groups, counts, writeRecords), CancellationToken.None, TaskContinuationOptions.DenyChildAttach, TaskScheduler.Default);
            ready = ready is null ? records : Task.WhenAll(records, ready);
        }
        else
        {
            WriteRecords(first, end, groups, counts, writeRecords);
        }

        var waitFor = ready;
        var source = completeHeader is null && !recordsLater
            ? new Lazy<byte[]>(start)
            : new Lazy<byte[]>(
                () =>
                {
                    // Read before the records: whoever writes the section reads every header first, so the groups are whole by then.
                    waitFor?.GetAwaiter().GetResult();
                    using var header = new MemoryStream();
                    using (var writer = new BinaryWriter(header))
                    {
                        writer.Write(start);
                        completeHeader?.Invoke(writer);
                    }

                    return header.ToArray();
                },
                LazyThreadSafetyMode.ExecutionAndPublication);
        return new KeyGroupSlice(first, end, source, counts, groups) { Ready = ready ?? Task.CompletedTask };
    }

    private static void WriteRecords(int first, int end, SectionBuffer[] groups, int[] counts, Action<Func<int, BinaryWriter>> writeRecords)
    {
        int width = end - first;
        var writers = new BinaryWriter?[width];
        writeRecords(group =>
        {
            if (group < first || group >= end)
            {
                throw new InvalidOperationException($"A record of key group {group} is held by the task that owns [{first}, {end}).");
            }

            int i = group - first;
            counts[i]++;
            return writers[i] ??= new BinaryWriter(groups[i] = new SectionBuffer());
        });

        for (int i = 0; i < width; i++)
        {
            writers[i]?.Flush();
            groups[i] ??= new SectionBuffer();
        }
    }
}

/// <summary>
/// The checkpoint section of a keyed part: the number of key groups, each writing task's header with its range, then per key
/// group its record count and bytes. The same layout at every parallelism (at 1, one header over all groups).
/// </summary>
internal sealed class KeyGroupedSection
{
    private const int Marker = 0x4B47_5331; // "KGS1"

    private KeyGroupedSection(int keyGroups, IReadOnlyList<(int First, int End, byte[] Header)> headers, int[] counts, byte[][] groups)
    {
        KeyGroups = keyGroups;
        Headers = headers;
        Counts = counts;
        Groups = groups;
    }

    /// <summary>Gets the number of key groups the state was written with.</summary>
    public int KeyGroups { get; }

    /// <summary>Gets every writing task's header with its range of key groups.</summary>
    public IReadOnlyList<(int First, int End, byte[] Header)> Headers { get; }

    /// <summary>Gets the record count of each key group.</summary>
    public int[] Counts { get; }

    /// <summary>Gets the records of each key group.</summary>
    public byte[][] Groups { get; }

    /// <summary>Gets the headers of the tasks whose ranges overlap [<paramref name="first"/>, <paramref name="end"/>).</summary>
    public IEnumerable<byte[]> HeadersOver(int first, int end) =>
        Headers.Where(h => h.First < end && first < h.End).Select(h => h.Header);

    public static void Write(BinaryWriter writer, int keyGroups, IReadOnlyList<KeyGroupSlice> slices)
    {
        writer.Write(Marker);
        writer.Write(keyGroups);
        writer.Write(slices.Count);
        foreach (var slice in slices)
        {
            writer.Write(slice.First);
            writer.Write(slice.End);
            writer.Write(slice.Header.Length);
            writer.Write(slice.Header);
        }

        int next = 0;
        foreach (var slice in slices.OrderBy(s => s.First))
        {
            if (slice.First != next)
            {
                throw new InvalidOperationException($"The tasks' key groups do not cover [0, {keyGroups}) without gaps (a range starts at {slice.First}, expected {next}).");
            }

            for (int i = 0; i < slice.End - slice.First; i++)
            {
                writer.Write(slice.Counts[i]);
                writer.Write(checked((int)slice.Groups[i].Length));
                writer.Flush();
                slice.Groups[i].WriteTo(writer.BaseStream);
            }

            next = slice.End;
        }

        if (next != keyGroups)
        {
            throw new InvalidOperationException($"The tasks' key groups end at {next}, not at {keyGroups}.");
        }
    }

    /// <summary>Reads a section; <paramref name="keyGroups"/> is the running query's number, which must be the checkpoint's.</summary>
    public static KeyGroupedSection Read(BinaryReader reader, int keyGroups, string part)
    {
        if (reader.ReadInt32() != Marker)
        {
            throw new InvalidDataException($"The state of {part} in the checkpoint is not written per key group.");
        }

        int groups = reader.ReadInt32();
        if (groups != keyGroups)
        {
            throw new InvalidDataException(
                $"The checkpoint's state of {part} is split into {groups} key groups; this query has QueryOptions.KeyGroups = {keyGroups}. " +
                $"Run it with KeyGroups = {groups} (the number of key groups cannot change across a restore; the parallelism can).");
        }

        int taskCount = reader.ReadInt32();
        var headers = new List<(int, int, byte[])>(taskCount);
        for (int i = 0; i < taskCount; i++)
        {
            int first = reader.ReadInt32();
            int end = reader.ReadInt32();
            headers.Add((first, end, reader.ReadBytes(reader.ReadInt32())));
        }

        var counts = new int[groups];
        var data = new byte[groups][];
        for (int g = 0; g < groups; g++)
        {
            counts[g] = reader.ReadInt32();
            data[g] = reader.ReadBytes(reader.ReadInt32());
        }

        return new KeyGroupedSection(groups, headers, counts, data);
    }
}
