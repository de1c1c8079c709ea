using System.Diagnostics;
using Xunit.Abstractions;

namespace LinqStream.Orleans.Tests;

[Trait("Category", "Slow")] // Slow (fast suite skips it): starts redis-server, 3 silo processes and the CLI several times (about a minute).
public sealed class ClusterDemoScriptTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ClusterDemo_SiloKilledWithSigkill_OutputStreamEqualsTheSingleProcessRun()
    {
        var root = RepositoryRoot();
        var cli = Path.Combine(root, "artifacts", "bin", "LinqStream.Cli", "release", "LinqStream.Cli.dll");
        Assert.True(File.Exists(cli), $"{cli} is missing: build the CLI first (dotnet build src/LinqStream.Cli -c Release).");
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = root };
        info.ArgumentList.Add(Path.Combine(root, "scripts", "cluster-demo.sh"));
        info.ArgumentList.Add("300000");
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        await process.WaitForExitAsync(timeout.Token);
        var text = await stdout;
        output.WriteLine(text);
        output.WriteLine(await stderr);

        Assert.Equal(0, process.ExitCode);
        Assert.Contains("cluster-demo: identical:", text, StringComparison.Ordinal);
        Assert.Contains("cluster-demo: recovery time", text, StringComparison.Ordinal);
        Assert.Contains("restored from checkpoint", text, StringComparison.Ordinal);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "LinqStream.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No LinqStream.sln above {AppContext.BaseDirectory}.");
    }
}
