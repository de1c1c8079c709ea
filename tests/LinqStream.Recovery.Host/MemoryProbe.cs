using System.Globalization;
using System.Runtime.InteropServices;

namespace LinqStream.Recovery.Host;

/// <summary>
/// Where a process's memory is (issue #18: attributing the resident memory of a spilling job): the kernel's resident set split
/// into anonymous and file-backed pages, the managed heap's committed bytes, glibc's malloc (in use and free but kept), and
/// RocksDB's own accounting of its stores. One line per call, with the per-unit growth since the first line.
/// </summary>
internal static partial class MemoryProbe
{
    private static long[]? s_first;
    private static long s_firstUnits;

    /// <summary>The columns of <see cref="Line"/>, in order.</summary>
    public const string Header =
        "units | RSS, anon, file MB | GC committed, heap MB | malloc in use, free kept, mmapped MB | RocksDB memtables, table readers, block cache (pinned) MB | SST MB, keys | other anon MB";

    public static string Line(long units, State.RocksDb.RocksDbStateBackend? backend)
    {
        var (rss, anon, file) = Resident();
        var gc = GC.GetGCMemoryInfo();
        var malloc = MallInfo();
        long mallocInUse = (long)malloc.Uordblks + (long)malloc.Hblkhd;
        long mallocFree = (long)malloc.Fordblks;
        var rocks = backend?.LastRun?.MemoryBreakdown() ?? new long[State.RocksDb.RocksDbStateStoreFactory.MemoryProperties.Length];
        long otherAnon = anon - gc.TotalCommittedBytes - mallocInUse - mallocFree;
        long[] values = [rss, anon, file, gc.TotalCommittedBytes, gc.HeapSizeBytes, mallocInUse, mallocFree, (long)malloc.Hblkhd, rocks[0], rocks[1], rocks[2], rocks[3], rocks[4], rocks[5], otherAnon];
        if (s_first is null)
        {
            s_first = values;
            s_firstUnits = units;
        }

        long[] first = s_first;

        string Mb(long bytes) => (bytes / 1e6).ToString("0", CultureInfo.InvariantCulture);
        string line = string.Create(CultureInfo.InvariantCulture,
            $"{units:N0} | {Mb(rss)}, {Mb(anon)}, {Mb(file)} | {Mb(gc.TotalCommittedBytes)}, {Mb(gc.HeapSizeBytes)} | {Mb(mallocInUse)}, {Mb(mallocFree)}, {Mb((long)malloc.Hblkhd)} | {Mb(rocks[0])}, {Mb(rocks[1])}, {Mb(rocks[2])} ({Mb(rocks[3])}) | {Mb(rocks[4])}, {rocks[5]:N0} | {Mb(otherAnon)}");
        long grown = units - s_firstUnits;
        if (grown > 0)
        {
            string Per(int i) => ((values[i] - first[i]) / (double)grown).ToString("0.0", CultureInfo.InvariantCulture);
            line += $"   per unit since the first line: RSS {Per(0)} B, anon {Per(1)}, GC committed {Per(3)}, malloc in use {Per(5)}, malloc free kept {Per(6)}, memtables {Per(8)}, table readers {Per(9)}, block cache {Per(10)}, SST {Per(12)}, other anon {Per(14)}";
        }

        return line;
    }

    /// <summary>The RocksDB library this process mapped (the package has a glibc-malloc and a jemalloc build).</summary>
    public static string RocksDbLibrary() =>
        File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length >= 6 && f[5].Contains("librocksdb", StringComparison.Ordinal))
            .Select(f => Path.GetFileName(f[5])).FirstOrDefault() ?? "(not loaded yet)";

    private static (long Rss, long Anon, long File) Resident()
    {
        long rss = 0, anon = 0, file = 0;
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = Kilobytes(line);
            }
            else if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
            {
                anon = Kilobytes(line);
            }
            else if (line.StartsWith("RssFile:", StringComparison.Ordinal))
            {
                file = Kilobytes(line);
            }
        }

        return (rss, anon, file);

        static long Kilobytes(string line) =>
            long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MallocInfo
    {
        public nuint Arena;
        public nuint Ordblks;
        public nuint Smblks;
        public nuint Hblks;
        public nuint Hblkhd;
        public nuint Usmblks;
        public nuint Fsmblks;
        public nuint Uordblks;
        public nuint Fordblks;
        public nuint Keepcost;
    }

    /// <summary>Gives malloc's free memory back to the kernel (every arena): what stays resident after it is in use.</summary>
    /// <returns>Whether any memory was given back.</returns>
    public static bool Trim() => MallocTrim(0) != 0;

    /// <summary>Prints glibc's per-arena statistics to standard error (how many arenas, what each holds in use).</summary>
    public static void PrintArenas() => MallocStats();

    [LibraryImport("libc", EntryPoint = "malloc_stats")]
    private static partial void MallocStats();

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    // glibc 2.33+: sums every malloc arena (the main one and the threads' ones).
    [LibraryImport("libc", EntryPoint = "mallinfo2")]
    private static partial MallocInfo MallInfo();
}
