using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using LinqStream.Connectors.Tests.Cli;

namespace LinqStream.Operations.Tests;

/// <summary>
/// A <c>linqstream run</c> job as a child process that a test can watch (its standard error line by line), interrupt (SIGINT, as
/// Ctrl+C) or kill (SIGKILL, as a crash). Every wait has a deadline; disposing kills what is still running.
/// </summary>
internal sealed class JobProcess : IDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _error = new();
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private JobProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Error => string.Join('\n', _error);

    public string Output => string.Join('\n', _output);

    public static JobProcess Start(params string[] args)
    {
        // A test runner started in the background of a non-interactive shell (`.ci/run &`) ignores SIGINT, and a child inherits that:
        // Interrupt would then do nothing. GNU env restores the default action before it execs the job (same process id).
        bool resetInterrupt = OperatingSystem.IsLinux() && File.Exists("/usr/bin/env");
        var start = new ProcessStartInfo(resetInterrupt ? "/usr/bin/env" : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = AppContext.BaseDirectory };
        if (resetInterrupt)
        {
            start.ArgumentList.Add("--default-signal=INT");
            start.ArgumentList.Add("dotnet");
        }

        start.ArgumentList.Add(CliProcess.CliPath);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var job = new JobProcess(process);
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { job._error.Enqueue(e.Data); } };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { job._output.Enqueue(e.Data); } };
        process.Exited += (_, _) => job._exited.TrySetResult();
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return job;
    }

    /// <summary>Waits until standard error has a line matching <paramref name="pattern"/> and returns the match.</summary>
    public async Task<Match> WaitForErrorAsync(string pattern)
    {
        var regex = new Regex(pattern, RegexOptions.CultureInvariant);
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < Deadline)
        {
            foreach (var line in _error)
            {
                if (regex.Match(line) is { Success: true } match)
                {
                    return match;
                }
            }

            Assert.False(_process.HasExited && _exited.Task.IsCompleted && !_error.Any(l => regex.IsMatch(l)), $"The job exited before writing /{pattern}/.\n{this}");
            await Task.Delay(50);
        }

        throw new TimeoutException($"No line /{pattern}/ on standard error within {Deadline}.\n{this}");
    }

    /// <summary>Waits until <paramref name="condition"/> holds (polled every 20 ms).</summary>
    public async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.False(_process.HasExited, $"The job exited before {what}.\n{this}");
            if (stopwatch.Elapsed > Deadline)
            {
                throw new TimeoutException($"Not {what} within {Deadline}.\n{this}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Sends SIGINT, as Ctrl+C in a terminal does.</summary>
    public void Interrupt()
    {
        using var kill = Process.Start("kill", ["-INT", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>Kills the process with SIGKILL, as a crash would: nothing of it runs after this.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public async Task<int> WaitForExitAsync()
    {
        using var timeout = new CancellationTokenSource(Deadline);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException($"The job did not exit within {Deadline}.\n{this}");
        }

        _process.WaitForExit(); // drains the redirected streams
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
    }

    public override string ToString() => $"--- stdout\n{Output}\n--- stderr\n{Error}";
}
