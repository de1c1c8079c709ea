using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LinqStream.Notebooks.Tests;

/// <summary>One formatted value the kernel sent: its kind (ReturnValueProduced, DisplayedValueProduced, DisplayedValueUpdated, ...) and mime type → text.</summary>
internal sealed record KernelOutput(string EventType, IReadOnlyDictionary<string, string> Values, string? DisplayId);

/// <summary>What one submission produced.</summary>
internal sealed record KernelResult(bool Succeeded, string? Error, IReadOnlyList<KernelOutput> Outputs)
{
    public KernelOutput? ReturnValue => Outputs.LastOrDefault(o => o.EventType == "ReturnValueProduced");

    public string StandardOutput => string.Concat(Outputs.Where(o => o.EventType == "StandardOutputValueProduced").Select(o => o.Values.Values.FirstOrDefault()));
}

/// <summary>
/// The real Polyglot kernel: the dotnet-interactive tool (a local tool of the repository) run as <c>dotnet-interactive stdio</c>, spoken to in
/// its JSON-lines protocol (one command envelope per line in, event envelopes out). Nothing of LinqStream is loaded on this side: the
/// notebooks' <c>#r "nuget: ..."</c> lines load the packages inside the kernel's process, next to its own assemblies.
/// </summary>
internal sealed class KernelClient : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentDictionary<string, Submission> _submissions = new(StringComparer.Ordinal);
    private readonly Task _reader;
    private readonly Lock _writeLock = new();
    private int _next;

    private KernelClient(Process process)
    {
        _process = process;
        _reader = Task.Run(ReadAsync);
    }

    /// <summary>Starts the kernel in <paramref name="workingDirectory"/> (relative paths in cells resolve from there, as in an editor).</summary>
    public static KernelClient Start(string repositoryRoot, string workingDirectory, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = repositoryRoot,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { "dotnet-interactive", "stdio", "--working-dir", workingDirectory })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_INTERACTIVE_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet dotnet-interactive stdio did not start.");
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        return new KernelClient(process);
    }

    /// <summary>Submits C# code as one cell and waits for it to succeed or fail.</summary>
    /// <param name="code">The cell.</param>
    /// <param name="timeout">How long the cell may run: past it, the test fails (the kernel is not waited for forever).</param>
    /// <param name="onOutput">Called with each output as it arrives (on the reader's thread).</param>
    public async Task<KernelResult> SubmitAsync(string code, TimeSpan timeout, Action<KernelOutput>? onOutput = null)
    {
        string token = "cell-" + Interlocked.Increment(ref _next).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var submission = new Submission(onOutput);
        _submissions[token] = submission;
        Send(token, "SubmitCode", new JsonObject { ["code"] = code, ["targetKernelName"] = "csharp" });
        var finished = await Task.WhenAny(submission.Done.Task, Task.Delay(timeout), _reader).ConfigureAwait(false);
        _submissions.TryRemove(token, out _);
        if (finished != submission.Done.Task)
        {
            throw new TimeoutException(_process.HasExited
                ? $"The kernel exited (code {_process.ExitCode}) while running a cell."
                : $"The cell did not finish within {timeout}:{Environment.NewLine}{code}");
        }

        return submission.Done.Task.Result;
    }

    /// <summary>Cancels the running cell, as the editor's stop button does.</summary>
    public void Cancel() => Send("cancel-" + Interlocked.Increment(ref _next).ToString(System.Globalization.CultureInfo.InvariantCulture), "Cancel", []);

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        await _reader.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        _process.Dispose();
    }

    private void Send(string token, string commandType, JsonObject command)
    {
        var envelope = new JsonObject { ["token"] = token, ["commandType"] = commandType, ["command"] = command };
        lock (_writeLock)
        {
            _process.StandardInput.WriteLine(envelope.ToJsonString());
            _process.StandardInput.Flush();
        }
    }

    private async Task ReadAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            if (!line.StartsWith('{'))
            {
                continue; // the banner
            }

            JsonObject envelope;
            try
            {
                envelope = JsonNode.Parse(line)!.AsObject();
            }
            catch (JsonException)
            {
                continue;
            }

            string? token = (string?)envelope["command"]?["token"];
            if (token is null)
            {
                continue;
            }

            // Commands the kernel runs on behalf of a submission (its #r, its extension script) carry the submission's token plus ".n".
            int dot = token.IndexOf('.', StringComparison.Ordinal);
            string root = dot < 0 ? token : token[..dot];
            if (_submissions.TryGetValue(root, out var submission))
            {
                submission.Handle((string)envelope["eventType"]!, envelope["event"]!.AsObject(), isRoot: dot < 0);
            }
        }
    }

    private sealed class Submission(Action<KernelOutput>? onOutput)
    {
        private readonly List<KernelOutput> _outputs = [];

        public TaskCompletionSource<KernelResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Handle(string eventType, JsonObject body, bool isRoot)
        {
            switch (eventType)
            {
                case "CommandSucceeded" when isRoot:
                    Done.TrySetResult(new KernelResult(true, null, [.. _outputs]));
                    break;
                case "CommandFailed" when isRoot:
                    Done.TrySetResult(new KernelResult(false, (string?)body["message"] ?? "", [.. _outputs]));
                    break;
                case "ReturnValueProduced" or "DisplayedValueProduced" or "DisplayedValueUpdated" or "StandardOutputValueProduced" or "StandardErrorValueProduced":
                    var values = body["formattedValues"]!.AsArray()
                        .ToDictionary(v => (string)v!["mimeType"]!, v => (string?)v!["value"] ?? "", StringComparer.Ordinal);
                    var output = new KernelOutput(eventType, values, (string?)body["valueId"]);
                    _outputs.Add(output);
                    onOutput?.Invoke(output);
                    break;
            }
        }
    }
}
