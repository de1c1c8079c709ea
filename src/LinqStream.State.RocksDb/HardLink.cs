using System.Runtime.InteropServices;

namespace LinqStream.State.RocksDb;

/// <summary>Hard links (restoring a checkpoint links its SST files instead of copying them); .NET has no API for them.</summary>
internal static partial class HardLink
{
    /// <summary>Links <paramref name="target"/> to <paramref name="source"/>; false where the platform or file system cannot (the caller copies).</summary>
    public static bool TryCreate(string source, string target) =>
        !OperatingSystem.IsWindows() && Link(source, target) == 0;

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string oldPath, string newPath);
}
