using System.Diagnostics;
using System.Globalization;

namespace LinqStream.Notebooks.Tests;

/// <summary>
/// One pack and one kernel for the whole test run: the repository's packages are packed (from the Release build, <c>--no-build</c>) into a
/// fresh local feed with a version of their own, so the kernel's NuGet cache cannot serve an older pack, and one dotnet-interactive kernel
/// is started for every notebook test.
/// </summary>
public sealed class KernelFixture : IAsyncLifetime
{
    private KernelClient? _kernel;
    private Process? _redis;

    /// <summary>Gets the folder of the repository (where LinqStream.sln is).</summary>
    public static string RepositoryRoot { get; } = Path.GetDirectoryName(Notebook.Folder)!;

    /// <summary>Gets the local feed the packages were packed into.</summary>
    public string Feed { get; } = Path.Combine(Path.GetTempPath(), "linqstream-notebook-tests", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "feed");

    /// <summary>Gets the version the packages were packed with (a prerelease unique to this run).</summary>
    public string Version { get; } = "1.0.0-nbtest." + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture) + "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    internal KernelClient Kernel => _kernel ?? throw new InvalidOperationException("The kernel has not started.");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Feed);
        await RunAsync("dotnet", ["tool", "restore"], TimeSpan.FromMinutes(3));
        string suffix = Version["1.0.0-".Length..];
        await RunAsync("dotnet", ["pack", "LinqStream.sln", "-c", "Release", "--no-build", "-o", Feed, "-p:VersionSuffix=" + suffix], TimeSpan.FromMinutes(5));
        _kernel = KernelClient.Start(RepositoryRoot, Notebook.Folder, new Dictionary<string, string> { ["LINQSTREAM_REDIS"] = Redis() });
    }

    /// <summary>The Redis server notebook 04 reads: LINQSTREAM_REDIS when set (.ci/run sets it), else a redis-server started for this run.</summary>
    private string Redis()
    {
        if (Environment.GetEnvironmentVariable("LINQSTREAM_REDIS") is { Length: > 0 } configured)
        {
            return configured;
        }

        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var start = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            _redis = Process.Start(start);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("Notebook 04 needs Redis: set LINQSTREAM_REDIS=host:port or put redis-server on the PATH (apt-get install redis-server).", ex);
        }

        _redis!.OutputDataReceived += (_, _) => { };
        _redis.ErrorDataReceived += (_, _) => { };
        _redis.BeginOutputReadLine();
        _redis.BeginErrorReadLine();
        return $"127.0.0.1:{port}";
    }

    public async Task DisposeAsync()
    {
        if (_kernel is not null)
        {
            await _kernel.DisposeAsync();
        }

        if (_redis is not null)
        {
            _redis.Kill();
            await _redis.WaitForExitAsync();
            _redis.Dispose();
        }

        // The kernel restored this run's packages into the NuGet cache; nothing will ask for this version again.
        string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (string package in Directory.Exists(cache) ? Directory.EnumerateDirectories(cache, "linqstream*") : [])
        {
            string folder = Path.Combine(package, Version);
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }

        Directory.Delete(Path.GetDirectoryName(Feed)!, recursive: true);
    }

    private static async Task RunAsync(string file, string[] arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = RepositoryRoot, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cancel.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{file} {string.Join(' ', arguments)}' failed ({process.ExitCode}):{Environment.NewLine}{await output}{await error}");
        }
    }
}

/// <summary>The tests that share the kernel (they run one after the other).</summary>
[CollectionDefinition(Name)]
public sealed class KernelCollection : ICollectionFixture<KernelFixture>
{
    public const string Name = "kernel";
}
