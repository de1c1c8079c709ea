using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace LinqStream.Connectors.Tests.Servers;

/// <summary>
/// A redis-server or nats-server child process on 127.0.0.1 with its data in a directory; it can be killed and started again
/// on the same port and data, as a crashed server would come back.
/// </summary>
public sealed class ServerProcess : IDisposable
{
    private readonly string _binary;
    private readonly Func<int, string, string[]> _arguments;
    private Process? _process;

    private ServerProcess(string binary, Func<int, string, string[]> arguments, string dataDirectory)
    {
        _binary = binary;
        _arguments = arguments;
        DataDirectory = dataDirectory;
        Port = FreePort();
    }

    public int Port { get; }

    public string DataDirectory { get; }

    /// <summary>Starts redis-server with append-only persistence that fsyncs every write (so a kill loses nothing acknowledged).</summary>
    public static ServerProcess StartRedis() =>
        Start("redis-server", (port, dir) =>
            ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", dir, "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no", "--logfile", Path.Combine(dir, "redis.log")]);

    /// <summary>Starts nats-server with JetStream storing in the data directory.</summary>
    public static ServerProcess StartNats() =>
        Start("nats-server", (port, dir) =>
            ["-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-js", "-sd", dir, "-l", Path.Combine(dir, "nats.log")]);

    public void Start()
    {
        var info = new ProcessStartInfo(_binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in _arguments(Port, DataDirectory))
        {
            info.ArgumentList.Add(argument);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {_binary}.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        StartWatchdog(_process.Id);
        WaitUntilListening();
    }

    /// <summary>Kills the server the hard way (SIGKILL), as a crash would.</summary>
    public void Kill() => Stop(graceful: false);

    /// <summary>
    /// Stops the server with SIGTERM, as a restart would. nats-server 2.9 acknowledges JetStream writes before they reach its
    /// files, so only a graceful stop keeps every acknowledged message (see docs/connectors.md, limits).
    /// </summary>
    public void Terminate() => Stop(graceful: true);

    /// <summary>Freezes the server (SIGSTOP): its sockets stay open but nothing is answered, as a stalled machine would behave.</summary>
    public void Pause() => Signal("STOP");

    /// <summary>Lets a paused server go on (SIGCONT).</summary>
    public void Resume() => Signal("CONT");

    /// <summary>Kills the server and deletes its data, so that <see cref="Start()"/> brings it back empty, as a server without persistence would.</summary>
    public void KillAndWipe()
    {
        Stop(graceful: false);
        foreach (var entry in new DirectoryInfo(DataDirectory).EnumerateFileSystemInfos())
        {
            if (entry is DirectoryInfo directory)
            {
                directory.Delete(recursive: true);
            }
            else if (!entry.Name.EndsWith(".log", StringComparison.Ordinal))
            {
                entry.Delete();
            }
        }
    }

    private void Signal(string signal)
    {
        if (_process is { HasExited: false })
        {
            using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
        }
    }

    private void Stop(bool graceful)
    {
        if (_process is { HasExited: false })
        {
            // A paused server ignores SIGTERM until it runs again.
            Signal("CONT");
            if (graceful)
            {
                using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                kill.WaitForExit();
                if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
                {
                    _process.Kill();
                }
            }
            else
            {
                _process.Kill();
            }

            _process.WaitForExit();
        }

        _process?.Dispose();
        _process = null;
    }

    public void Dispose()
    {
        Stop(graceful: false);
        for (int attempt = 0; attempt < 5 && Directory.Exists(DataDirectory); attempt++)
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A background thread of the dying server may still be writing a file: try again shortly.
                Thread.Sleep(50);
            }
        }
    }

    /// <summary>
    /// Kills the server if this test process dies without disposing it (a crashed or killed test host runs no exit handler),
    /// so no server outlives the tests. It ends with the server when the tests stop it themselves, and checks that the pid is
    /// still the same program before it kills it.
    /// </summary>
    private void StartWatchdog(int serverPid)
    {
        string name = Path.GetFileName(_binary);
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(
            $"while kill -0 {Environment.ProcessId} 2>/dev/null && kill -0 {serverPid} 2>/dev/null; do sleep 1; done; "
            + $"if ! kill -0 {Environment.ProcessId} 2>/dev/null; then "
            + $"[ \"$(cat /proc/{serverPid}/comm 2>/dev/null)\" = \"{name}\" ] && kill -9 {serverPid}; sleep 0.2; rm -rf '{DataDirectory}'; fi; exit 0");
        using var watchdog = Process.Start(info);
    }

    private static ServerProcess Start(string name, Func<int, string, string[]> arguments)
    {
        var server = new ServerProcess(FindBinary(name), arguments, Directory.CreateTempSubdirectory("linqstream-" + name + "-").FullName);
        server.Start();
        return server;
    }

    private static string FindBinary(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var dir in path.Split(':').Concat(["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"]))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            $"The connector tests need '{name}': run them through .ci/servers.sh (which installs it with apt-get), or install it (apt-get install {name}).");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// A restarted redis-server listens before it has read its data back (it answers <c>-LOADING</c> meanwhile): it is ready
    /// when PING gives PONG. nats-server is ready once it listens.
    /// </summary>
    private bool IsReady(TcpClient client)
    {
        if (!Path.GetFileName(_binary).StartsWith("redis", StringComparison.Ordinal))
        {
            return true;
        }

        var stream = client.GetStream();
        stream.ReadTimeout = 1000;
        stream.Write("PING\r\n"u8);
        var reply = new byte[64];
        int n = stream.Read(reply);
        return n >= 5 && reply.AsSpan(0, 5).SequenceEqual("+PONG"u8);
    }

    private void WaitUntilListening()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (_process!.HasExited)
            {
                throw new InvalidOperationException($"{_binary} exited with code {_process.ExitCode} at start (data in {DataDirectory}).");
            }

            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, Port);
                if (IsReady(client))
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is SocketException or IOException)
            {
                // Not listening yet.
            }

            Thread.Sleep(20);
        }

        throw new InvalidOperationException($"{_binary} did not listen on 127.0.0.1:{Port} within 10 s.");
    }
}
