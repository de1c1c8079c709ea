using System.Runtime.InteropServices;
using RocksDbSharp;

namespace LinqStream.State.RocksDb;

/// <summary>
/// The files that make up a database now (RocksDB's <c>GetLiveFilesStorageInfo</c>): the SST files, and the MANIFEST (to its
/// size now), CURRENT (its contents), OPTIONS and write-ahead log files a copy needs. A store's checkpoint reads them with file
/// deletions disabled and takes them itself, instead of through RocksDB's <c>Checkpoint</c> (issue #18, the 21.8 s second part).
/// </summary>
/// <remarks>
/// RocksDB's <c>Checkpoint.CreateCheckpoint(dir, 0)</c> flushes the memtable again with <c>FlushOptions()</c>, whose
/// <c>allow_write_stall</c> is false: when one more L0 file would reach <c>level0_slowdown_writes_trigger</c> it waits until
/// compaction has brought L0 down (<c>DBImpl::WaitUntilFlushWouldNotStallWrites</c>; it waits even when the memtable is empty),
/// which on a starved machine right after a large compaction took seconds. It then copies the small files and fsyncs them and the
/// directory, which this store read back and deleted anyway. Listed without a flush (<c>wal_size_for_flush</c> = max: the store
/// has just flushed with <c>allow_write_stall</c> and the database takes no writes until the checkpoint ends), nothing here waits
/// for compaction or for the disk.
/// </remarks>
internal static class LiveFiles
{
    /// <summary>One live file: where it is, its size to take, and, for CURRENT, the contents to write instead of the file's.</summary>
    public readonly record struct LiveFile(string Directory, string Name, long Size, byte[]? Contents)
    {
        public bool IsTable => Name.EndsWith(".sst", StringComparison.Ordinal);

        public string Path => System.IO.Path.Combine(Directory, Name);
    }

    /// <summary>Runs <paramref name="take"/> over the database's live files with file deletions disabled, so none of them is
    /// deleted (by a compaction that ends meanwhile) before it is linked or read.</summary>
    public static void Take(RocksDbSharp.RocksDb db, Action<IReadOnlyList<LiveFile>> take)
    {
        var native = Native.Instance;
        native.rocksdb_disable_file_deletions(db.Handle, out IntPtr disabled);
        Check(disabled, "disable file deletions");
        try
        {
            take(List(db));
        }
        finally
        {
            native.rocksdb_enable_file_deletions(db.Handle, out IntPtr enabled);
            Check(enabled, "enable file deletions");
        }
    }

    private static List<LiveFile> List(RocksDbSharp.RocksDb db)
    {
        var native = Native.Instance;
        IntPtr options = native.rocksdb_livefiles_storage_info_options_create();
        try
        {
            // Never flush here (the store has flushed, allowing a write stall, and takes no writes until the checkpoint ends).
            native.rocksdb_livefiles_storage_info_options_set_wal_size_for_flush(options, ulong.MaxValue);
            IntPtr info = native.rocksdb_get_livefiles_storage_info(db.Handle, options, out IntPtr error);
            Check(error, "list the live files");
            try
            {
                int count = (int)native.rocksdb_livefiles_storage_info_count(info);
                var files = new List<LiveFile>(count);
                for (int i = 0; i < count; i++)
                {
                    string name = Text(native.rocksdb_livefiles_storage_info_relative_filename(info, (UIntPtr)i));
                    string directory = Text(native.rocksdb_livefiles_storage_info_directory(info, (UIntPtr)i));
                    long size = (long)native.rocksdb_livefiles_storage_info_size(info, (UIntPtr)i);
                    IntPtr contents = native.rocksdb_livefiles_storage_info_replacement_contents(info, (UIntPtr)i, out UIntPtr length);
                    byte[]? replacement = null;
                    if (contents != IntPtr.Zero && (ulong)length > 0)
                    {
                        replacement = new byte[(int)length];
                        Marshal.Copy(contents, replacement, 0, replacement.Length);
                    }

                    files.Add(new LiveFile(directory, name, size, replacement));
                }

                return files;
            }
            finally
            {
                native.rocksdb_livefiles_storage_info_destroy(info);
            }
        }
        finally
        {
            native.rocksdb_livefiles_storage_info_options_destroy(options);
        }
    }

    /// <summary>The first <see cref="LiveFile.Size"/> bytes of a small file (a MANIFEST or write-ahead log may grow after the
    /// listing: what the listing names is its size then), or the contents the listing gives instead of the file's (CURRENT).</summary>
    public static byte[] Read(LiveFile file)
    {
        if (file.Contents is { } contents)
        {
            return contents;
        }

        using var stream = new FileStream(file.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var data = new byte[file.Size];
        stream.ReadExactly(data);
        return data;
    }

    private static string Text(IntPtr text) => Marshal.PtrToStringUTF8(text) ?? "";

    private static void Check(IntPtr error, string what)
    {
        if (error == IntPtr.Zero)
        {
            return;
        }

        string message = Marshal.PtrToStringUTF8(error) ?? "unknown error";
        Native.Instance.rocksdb_free(error);
        throw new IOException($"RocksDB could not {what}: {message}");
    }
}
