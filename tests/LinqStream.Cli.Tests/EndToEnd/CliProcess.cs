using System.Diagnostics;

namespace LinqStream.Cli.Tests.EndToEnd;

/// <summary>Starts the built CLI (<c>dotnet LinqStream.Cli.dll ...</c>) as a real process and captures its output.</summary>
internal static class CliProcess
{
    // A guard against a hung process, not a time limit: a connector job's CLI run took close to a minute at load average 40.
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(5);

    /// <summary>Gets the CLI assembly: the project reference copies it, with its runtimeconfig and deps files, next to the tests.</summary>
    public static string CliPath { get; } = Path.Combine(AppContext.BaseDirectory, "LinqStream.Cli.dll");

    public static async Task<CliResult> RunAsync(params string[] args)
    {
        Assert.True(File.Exists(CliPath), $"The CLI was not found at '{CliPath}'.");
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(CliPath);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(s_timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'linqstream {string.Join(' ', args)}' did not exit within {s_timeout}.");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The <c>dotnet</c> host running the tests (so the CLI runs on the same runtime), else the one on the PATH.</summary>
    private static string DotnetHost()
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host))
        {
            return host;
        }

        var current = Environment.ProcessPath;
        return current is not null && Path.GetFileNameWithoutExtension(current).Equals("dotnet", StringComparison.OrdinalIgnoreCase) ? current : "dotnet";
    }
}

/// <summary>What a CLI process did.</summary>
internal sealed record CliResult(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit code {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}
