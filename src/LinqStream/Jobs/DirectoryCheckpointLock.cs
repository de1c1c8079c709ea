using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace LinqStream;

/// <summary>
/// The lock file of a <see cref="DirectoryCheckpointStore"/>: <c>job.lock</c> holds the owner's process id, host, the time its
/// process started and the job's name, so a second job on the same directory fails with a message naming the first, and a
/// lock left by a crashed process on this host (its process is gone, or the id now belongs to another process) is taken over.
/// </summary>
/// <remarks>
/// Checking and creating the lock happen while holding an operating-system lock on <c>job.lock.guard</c> (released by the
/// kernel when a process dies), so two jobs that start together, or that both find a stale lock, cannot both take it.
/// </remarks>
internal sealed class DirectoryCheckpointLock : IDisposable
{
    public const string FileName = "job.lock";
    private static readonly TimeSpan GuardWait = TimeSpan.FromSeconds(10);
    private readonly string _path;
    private readonly string _content;
    private bool _released;

    private DirectoryCheckpointLock(string path, string content)
    {
        _path = path;
        _content = content;
    }

    public static DirectoryCheckpointLock Acquire(string directory, string owner, Action<string> warn)
    {
        string path = Path.Combine(directory, FileName);
        using var guard = Guard(path);
        if (File.Exists(path))
        {
            string existing = File.ReadAllText(path);
            var holder = Owner.Parse(existing);
            if (holder is null)
            {
                warn($"The checkpoint directory {directory} had a lock file that could not be read ('{Shorten(existing)}'); it was replaced.");
            }
            else if (!string.Equals(holder.Host, Environment.MachineName, StringComparison.Ordinal))
            {
                throw new IOException(
                    $"The checkpoint directory {directory} is in use by {holder.Job} (process {holder.ProcessId} on host {holder.Host}, since {holder.Since:u}). " +
                    $"Two jobs on one checkpoint directory overwrite each other's checkpoints: give this job its own directory. If that job is gone, delete {path}.");
            }
            else if (holder.IsAlive())
            {
                throw new IOException(
                    $"The checkpoint directory {directory} is in use by {holder.Job} (process {holder.ProcessId} on this host, since {holder.Since:u}). " +
                    "Two jobs on one checkpoint directory overwrite each other's checkpoints: stop that job first, or give this one its own directory.");
            }
            else
            {
                warn($"Took over the checkpoint directory {directory} from {holder.Job} (process {holder.ProcessId} on this host, since {holder.Since:u}), which is no longer running.");
            }
        }

        var self = Owner.Current(owner);
        string content = self.ToJson();
        string temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllText(temporary, content);
        File.Move(temporary, path, overwrite: true);
        return new DirectoryCheckpointLock(path, content);
    }

    public void Dispose()
    {
        if (_released)
        {
            return;
        }

        _released = true;
        try
        {
            using var guard = Guard(_path);
            // Only our own lock is removed: a lock someone took over meanwhile (after deleting ours by hand) stays.
            if (File.Exists(_path) && string.Equals(File.ReadAllText(_path), _content, StringComparison.Ordinal))
            {
                File.Delete(_path);
            }
        }
        catch (IOException)
        {
            // A lock that cannot be removed now is stale once this process ends, and the next job takes it over.
        }
    }

    private static FileStream Guard(string path)
    {
        var started = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path + ".guard", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (started.Elapsed < GuardWait)
            {
                // Another job is checking the lock right now; that takes milliseconds.
                Thread.Sleep(10);
            }
        }
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "...";

    private sealed record Owner(int ProcessId, string Host, long ProcessStartTicks, DateTimeOffset Since, string Job)
    {
        public static Owner Current(string job)
        {
            using var process = Process.GetCurrentProcess();
            return new Owner(Environment.ProcessId, Environment.MachineName, process.StartTime.ToUniversalTime().Ticks, TimeProvider.System.GetUtcNow(), job);
        }

        public static Owner? Parse(string json)
        {
            try
            {
                using var document = JsonDocument.Parse(json);
                var root = document.RootElement;
                return new Owner(
                    root.GetProperty("pid").GetInt32(),
                    root.GetProperty("host").GetString() ?? string.Empty,
                    root.GetProperty("processStart").GetInt64(),
                    DateTimeOffset.Parse(root.GetProperty("since").GetString() ?? string.Empty, CultureInfo.InvariantCulture),
                    root.GetProperty("job").GetString() ?? "a job");
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                return null;
            }
        }

        /// <summary>Whether the process still runs; a process id reused by another program (another start time) is not the owner.</summary>
        public bool IsAlive()
        {
            try
            {
                using var process = Process.GetProcessById(ProcessId);
                // Start times are derived from the boot time, which each process computes with some jitter: within a second is the same process.
                return !process.HasExited && Math.Abs(process.StartTime.ToUniversalTime().Ticks - ProcessStartTicks) < TimeSpan.TicksPerSecond;
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                return false;
            }
        }

        public string ToJson()
        {
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
            {
                writer.WriteStartObject();
                writer.WriteNumber("pid", ProcessId);
                writer.WriteString("host", Host);
                writer.WriteNumber("processStart", ProcessStartTicks);
                writer.WriteString("since", Since.ToString("O", CultureInfo.InvariantCulture));
                writer.WriteString("job", Job);
                writer.WriteEndObject();
            }

            return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
        }
    }
}
