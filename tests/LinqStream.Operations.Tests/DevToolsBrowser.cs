using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LinqStream.Operations.Tests;

/// <summary>
/// Headless Chromium driven over the DevTools protocol (a WebSocket of JSON commands): navigate, evaluate JavaScript, take a
/// screenshot. Debian's <c>chromium</c> package provides the browser (.ci/run installs it); Playwright's own browser download
/// does not work here, and this needs nothing but the browser.
/// </summary>
internal sealed class DevToolsBrowser : IAsyncDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly CancellationTokenSource _closing = new();
    private Task? _receiving;
    private int _nextId;

    private DevToolsBrowser(Process process, string profile) => (_process, _profile) = (process, profile);

    /// <summary>The browser's executable: <c>LINQSTREAM_CHROMIUM</c>, else Debian's <c>/usr/bin/chromium</c>.</summary>
    public static string Executable => Environment.GetEnvironmentVariable("LINQSTREAM_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public static async Task<DevToolsBrowser> StartAsync(int width, int height)
    {
        Assert.True(File.Exists(Executable), $"Chromium is not installed at {Executable}: run 'apt-get install chromium' (.ci/run does), or set LINQSTREAM_CHROMIUM.");
        string profile = Directory.CreateTempSubdirectory("linqstream-chromium-").FullName;
        var start = new ProcessStartInfo(Executable) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[]
        {
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
            "--remote-debugging-port=0", $"--user-data-dir={profile}", $"--window-size={width},{height}", "about:blank",
        })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, _) => { };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var browser = new DevToolsBrowser(process, profile);
        try
        {
            await browser.ConnectAsync();
            await browser.SendAsync("Emulation.setDeviceMetricsOverride", new JsonObject { ["width"] = width, ["height"] = height, ["deviceScaleFactor"] = 1, ["mobile"] = false });
            return browser;
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
    }

    public async Task NavigateAsync(string url)
    {
        await SendAsync("Page.enable", []);
        await SendAsync("Page.navigate", new JsonObject { ["url"] = url });
        await WaitForAsync("document.readyState === 'complete'", "the page to load");
    }

    /// <summary>Evaluates <paramref name="expression"/> in the page (awaiting a promise) and returns its value as JSON.</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true });
        if (result["exceptionDetails"] is { } error)
        {
            throw new InvalidOperationException($"'{expression}' threw in the page: {error.ToJsonString()}");
        }

        return result["result"]?["value"];
    }

    /// <summary>Polls a JavaScript condition every 100 ms until it is true.</summary>
    public async Task WaitForAsync(string condition, string what)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!(await EvaluateAsync($"!!({condition})"))!.GetValue<bool>())
        {
            if (stopwatch.Elapsed > s_deadline)
            {
                throw new TimeoutException($"Not {what} within {s_deadline} ({condition}).");
            }

            await Task.Delay(100);
        }
    }

    public async Task<byte[]> ScreenshotAsync()
    {
        var result = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" });
        return Convert.FromBase64String(result["data"]!.GetValue<string>());
    }

    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync();
        if (_receiving is not null)
        {
            await _receiving.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _socket.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // A crash-reporter file may still be open for a moment; the directory is in /tmp.
        }

        _closing.Dispose();
    }

    private async Task ConnectAsync()
    {
        // Chromium writes the port it picked and the browser's WebSocket path into DevToolsActivePort.
        string portFile = Path.Combine(_profile, "DevToolsActivePort");
        var stopwatch = Stopwatch.StartNew();
        string[] lines = [];
        while (lines.Length < 1 || lines[0].Length == 0)
        {
            Assert.False(_process.HasExited, $"Chromium exited with code {(_process.HasExited ? _process.ExitCode : 0)} before it listened.");
            if (stopwatch.Elapsed > s_deadline)
            {
                throw new TimeoutException($"Chromium wrote no {portFile} within {s_deadline}.");
            }

            await Task.Delay(100);
            lines = File.Exists(portFile) ? await File.ReadAllLinesAsync(portFile) : [];
        }

        using var http = new HttpClient { Timeout = s_deadline };
        string? page = null;
        while (page is null)
        {
            var targets = JsonNode.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{lines[0]}/json/list")))!.AsArray();
            page = targets.FirstOrDefault(t => t?["type"]?.GetValue<string>() == "page")?["webSocketDebuggerUrl"]?.GetValue<string>();
            if (page is null)
            {
                Assert.True(stopwatch.Elapsed < s_deadline, "Chromium opened no page.");
                await Task.Delay(100);
            }
        }

        using var timeout = new CancellationTokenSource(s_deadline);
        await _socket.ConnectAsync(new Uri(page), timeout.Token);
        _receiving = Task.Run(ReceiveAsync);
    }

    private async Task<JsonObject> SendAsync(string method, JsonObject parameters)
    {
        int id = Interlocked.Increment(ref _nextId);
        var reply = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters };
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, endOfMessage: true, _closing.Token);
        var response = await reply.Task.WaitAsync(s_deadline);
        if (response["error"] is { } error)
        {
            throw new InvalidOperationException($"DevTools {method} failed: {error.ToJsonString()}");
        }

        return response["result"]?.AsObject() ?? [];
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[1 << 16];
        using var message = new MemoryStream();
        try
        {
            while (!_closing.IsCancellationRequested)
            {
                var received = await _socket.ReceiveAsync(buffer, _closing.Token);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                message.Write(buffer, 0, received.Count);
                if (!received.EndOfMessage)
                {
                    continue;
                }

                var json = JsonNode.Parse(message.GetBuffer().AsSpan(0, (int)message.Length))!.AsObject();
                message.SetLength(0);
                if (json["id"] is { } id && _pending.TryRemove(id.GetValue<int>(), out var reply))
                {
                    reply.TrySetResult(json);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or JsonException)
        {
            foreach (var reply in _pending.Values)
            {
                reply.TrySetException(new InvalidOperationException("The DevTools connection closed.", ex));
            }
        }
    }
}
