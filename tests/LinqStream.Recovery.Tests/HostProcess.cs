using System.Diagnostics;
using System.Threading.Channels;

namespace LinqStream.Recovery.Tests;

/// <summary>
/// One run of LinqStream.Recovery.Host as a child process (<c>dotnet LinqStream.Recovery.Host.dll …</c>), its stdout read line by
/// line as it comes, so a test can pick the moment to kill it.
/// </summary>
internal sealed class HostProcess : IDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _stdout;
    private readonly Task<string> _stderr;

    private HostProcess(Process process)
    {
        _process = process;
        _stdout = PumpAsync();
        _stderr = process.StandardError.ReadToEndAsync();
    }

    private readonly List<string> _output = [];

    /// <summary>Gets the path of the host's dll, built next to this test assembly (same configuration) by the project reference.</summary>
    public static string HostPath { get; } = FindHost();

    public static HostProcess Start(params string[] args) => Start(new Dictionary<string, string>(), args);

    /// <summary>Starts the host with extra environment variables (e.g. <c>DOTNET_GCHeapHardLimit</c>).</summary>
    public static HostProcess Start(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        info.ArgumentList.Add(HostPath);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return new HostProcess(Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start."));
    }

    /// <summary>Gets the child's process id.</summary>
    public int Id => _process.Id;

    /// <summary>Reads the next stdout line, or null once the process has closed stdout (it exited).</summary>
    public async Task<string?> ReadLineAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            if (await _lines.Reader.WaitToReadAsync(cts.Token).ConfigureAwait(false) && _lines.Reader.TryRead(out var line))
            {
                return line;
            }

            return null;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"The host printed nothing for {timeout.TotalSeconds} s. Output so far:\n{Transcript()}");
        }
    }

    /// <summary>Kills the process and everything it started, then waits for it to be gone.</summary>
    public async Task<int> KillAsync()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited between the decision and the kill.
        }

        return await WaitForExitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
    }

    /// <summary>Waits for the process to exit by itself and for its output to be read; returns the exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The host did not exit within {timeout.TotalSeconds} s. Output so far:\n{Transcript()}");
        }

        await _stdout.ConfigureAwait(false);
        return _process.ExitCode;
    }

    /// <summary>Gets every stdout line read so far, one per line.</summary>
    public string Transcript()
    {
        lock (_output)
        {
            return string.Join('\n', _output);
        }
    }

    /// <summary>Gets what the process wrote to stderr (after it exited).</summary>
    public Task<string> ErrorsAsync() => _stderr;

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private static string FindHost()
    {
        // This assembly runs from artifacts/bin/LinqStream.Recovery.Tests/<configuration>/; the host is built beside it.
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string configuration = here.Name;
        var bin = here.Parent?.Parent ?? throw new InvalidOperationException($"Unexpected test directory '{here.FullName}'.");
        string path = Path.Combine(bin.FullName, "LinqStream.Recovery.Host", configuration, "LinqStream.Recovery.Host.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"The recovery host was not built at '{path}' (it is a project reference of the test project).", path);
    }

    private async Task PumpAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            lock (_output)
            {
                _output.Add(line);
            }

            await _lines.Writer.WriteAsync(line).ConfigureAwait(false);
        }

        _lines.Writer.TryComplete();
    }
}
