using System.Runtime.InteropServices;

namespace LinqStream.Benchmarks.Infrastructure;

/// <summary>
/// The kernel's counters of this whole process (every thread, ended ones too: <c>getrusage(RUSAGE_SELF)</c>, Linux): minor page
/// faults (first touches of fresh memory), and voluntary and involuntary context switches (a thread that waited, a thread that
/// was preempted). Zero on other systems.
/// </summary>
internal readonly record struct ResourceUsage(long MinorFaults, long VoluntarySwitches, long InvoluntarySwitches)
{
    /// <summary>Gets the counters now.</summary>
    public static ResourceUsage Now()
    {
        if (!OperatingSystem.IsLinux() || GetResourceUsage(0, out var usage) != 0)
        {
            return default;
        }

        return new ResourceUsage(usage.MinorFaults, usage.VoluntarySwitches, usage.InvoluntarySwitches);
    }

    /// <summary>Gets what happened between <paramref name="start"/> and <paramref name="end"/>.</summary>
    public static ResourceUsage operator -(ResourceUsage end, ResourceUsage start) =>
        new(end.MinorFaults - start.MinorFaults, end.VoluntarySwitches - start.VoluntarySwitches, end.InvoluntarySwitches - start.InvoluntarySwitches);

    [DllImport("libc", EntryPoint = "getrusage")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int GetResourceUsage(int who, out RUsage usage);

    /// <summary>struct rusage of Linux on 64 bits: two timevals, then fourteen longs.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
        public long MaxResident;
        public long SharedMemory;
        public long UnsharedData;
        public long UnsharedStack;
        public long MinorFaults;
        public long MajorFaults;
        public long Swaps;
        public long BlockInputs;
        public long BlockOutputs;
        public long MessagesSent;
        public long MessagesReceived;
        public long Signals;
        public long VoluntarySwitches;
        public long InvoluntarySwitches;
    }
}
