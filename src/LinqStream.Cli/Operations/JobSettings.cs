using System.CommandLine;
using LinqStream.Cli.Commands;
using LinqStream.Cli.Input;

namespace LinqStream.Cli.Operations;

/// <summary>How <c>linqstream run</c> operates the query as a job: checkpoints, an output stream, metrics export and the dashboard.</summary>
/// <param name="CheckpointDirectory">Where checkpoints are kept (<c>--checkpoints</c>).</param>
/// <param name="CheckpointInterval">Time between checkpoints (<c>--checkpoint-every 10s</c>).</param>
/// <param name="CheckpointEveryEvents">Events between checkpoints (<c>--checkpoint-every 100k</c>).</param>
/// <param name="Metrics">Where metrics go (<c>--metrics prometheus:9464</c>, <c>--metrics otlp:http://HOST:4317</c>).</param>
/// <param name="Dashboard">The dashboard's address (<c>--dashboard 127.0.0.1:8080</c>).</param>
/// <param name="Sink">A Redis or NATS stream for the results (<c>--sink</c>).</param>
/// <param name="JobName">The <c>job</c> tag of the metrics and the dashboard's title.</param>
internal sealed record JobSettings(
    string? CheckpointDirectory, TimeSpan? CheckpointInterval, long? CheckpointEveryEvents, IReadOnlyList<MetricsTarget> Metrics, DashboardAddress? Dashboard, SourceUri? Sink, string JobName)
{
    /// <summary>The checkpoint interval when <c>--checkpoints</c> is given without <c>--checkpoint-every</c>.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(10);

    /// <summary>Gets a value indicating whether any option asks for a job (otherwise <c>run</c> subscribes to the query as before).</summary>
    public bool IsJob => CheckpointDirectory is not null || Metrics.Count > 0 || Dashboard is not null || Sink is not null || State is not null;

    /// <summary>Gets the job's state backend from <c>--state</c> (null: the heap).</summary>
    public StateBackend? State { get; init; }

    /// <summary>Reads <c>--state</c>: <c>heap</c> or <c>rocksdb:DIR</c>.</summary>
    internal static bool TryParseState(string text, out StateBackend? backend, out string reason)
    {
        backend = null;
        reason = "";
        if (text == "heap")
        {
            backend = StateBackend.Heap;
            return true;
        }

        if (text.StartsWith("rocksdb:", StringComparison.Ordinal) && text.Length > "rocksdb:".Length)
        {
            backend = new State.RocksDb.RocksDbStateBackend(text["rocksdb:".Length..]);
            return true;
        }

        reason = $"--state is heap or rocksdb:DIR (a directory for the RocksDB state and its checkpointed files); got '{text}'.";
        return false;
    }

    /// <summary>The options of <c>run</c> that make it a job.</summary>
    internal sealed class Options
    {
        public Option<DirectoryInfo> Checkpoints { get; } = new("--checkpoints")
        {
            Description = "Run the query as a checkpointed job: restore from the newest valid checkpoint in DIR, take one every --checkpoint-every, "
                + "and a final one on Ctrl+C (exit 0). --out files and --sink streams are then written exactly once across restarts.",
        };

        public Option<string> CheckpointEvery { get; } = new("--checkpoint-every")
        {
            Description = "With --checkpoints: a time (10s, 1m) or a number of input events (100k, 1M) between checkpoints. Default 10s.",
        };

        public Option<string[]> Metrics { get; } = new("--metrics")
        {
            Description = "Export the job's metrics: prometheus:PORT (or prometheus:HOST:PORT) serves /metrics; otlp or otlp:URL pushes to an OpenTelemetry collector "
                + "(default http://localhost:4317). Repeat for both. Instrument names: docs/operations.md.",
            Arity = ArgumentArity.OneOrMore,
        };

        public Option<string> Dashboard { get; } = new("--dashboard")
        {
            Description = "Serve a live web page of the running job at HOST:PORT (127.0.0.1:8080): its plan with events/s, throughput and watermark lag, "
                + "checkpoints, dead letters, and buttons to checkpoint and stop.",
        };

        public Option<string> Sink { get; } = new("--sink")
        {
            Description = "Write every result as a JSON message to " + SourceUri.Forms + " (exactly once with --checkpoints) instead of a table.",
        };

        public Option<string> JobName { get; } = new("--job-name")
        {
            Description = "The job's name in metrics (the 'job' tag) and on the dashboard. Default: the script's file name.",
        };

        public Option<string> State { get; } = new("--state")
        {
            Description = "Where keyed state lives: heap (the default) or rocksdb:DIR, where session windows keep their hot keys on the heap and the rest "
                + "in RocksDB under DIR, with incremental checkpoints (docs/state.md). Use the same DIR with the same --checkpoints.",
        };

        public IEnumerable<Option> All => [Checkpoints, CheckpointEvery, Metrics, Dashboard, Sink, JobName, State];

        public void AddValidators(Command command)
        {
            CheckpointEvery.Validators.Add(result =>
            {
                if (!TryParseEvery(result.Tokens.Count == 1 ? result.Tokens[0].Value : "", out _, out _))
                {
                    result.AddError($"--checkpoint-every must be a duration (10s, 1m) or a number of events (100k, 1M); got '{string.Join(" ", result.Tokens.Select(t => t.Value))}'.");
                }
            });
            Metrics.Validators.Add(result =>
            {
                foreach (var token in result.Tokens)
                {
                    if (!MetricsTarget.TryParse(token.Value, out _, out string reason))
                    {
                        result.AddError($"--metrics: {reason}");
                    }
                }
            });
            Dashboard.Validators.Add(result =>
            {
                if (result.Tokens.Count == 1 && !DashboardAddress.TryParse(result.Tokens[0].Value, out _, out string reason))
                {
                    result.AddError($"--dashboard: {reason}");
                }
            });
            State.Validators.Add(result =>
            {
                if (result.Tokens.Count == 1 && !TryParseState(result.Tokens[0].Value, out _, out string reason))
                {
                    result.AddError(reason);
                }
            });
            Sink.Validators.Add(result =>
            {
                if (result.Tokens.Count == 1 && !SourceUri.TryParse(result.Tokens[0].Value, out _, out string reason))
                {
                    result.AddError($"--sink: {reason}.");
                }
            });
            command.Validators.Add(result =>
            {
                if (result.GetResult(CheckpointEvery) is not null && result.GetResult(Checkpoints) is null)
                {
                    result.AddError("--checkpoint-every needs --checkpoints DIR (where the checkpoints go).");
                }

                if (result.GetResult(Sink) is not null && result.GetResult(command.Options.First(o => o.Name == "--out")) is not null)
                {
                    result.AddError("Give the results one destination: --out FILE or --sink URI (not both).");
                }
            });
        }

        public JobSettings Read(ParseResult parse, string scriptPath)
        {
            TimeSpan? interval = null;
            long? events = null;
            if (parse.GetValue(CheckpointEvery) is { } every)
            {
                _ = TryParseEvery(every, out interval, out events); // the validator has accepted it
            }
            else if (parse.GetValue(Checkpoints) is not null)
            {
                interval = DefaultInterval;
            }

            return new JobSettings(
                parse.GetValue(Checkpoints)?.FullName,
                interval,
                events,
                [.. (parse.GetValue(Metrics) ?? []).Select(m => MetricsTarget.TryParse(m, out var target, out _) ? target! : throw new InvalidOperationException(m))],
                parse.GetValue(Dashboard) is { } address ? (DashboardAddress.TryParse(address, out var parsed, out _) ? parsed : throw new InvalidOperationException(address)) : null,
                parse.GetValue(Sink) is { } sink ? (SourceUri.TryParse(sink, out var uri, out _) ? uri : throw new InvalidOperationException(sink)) : null,
                parse.GetValue(JobName) ?? Path.GetFileNameWithoutExtension(scriptPath))
            {
                State = parse.GetValue(State) is { } state && TryParseState(state, out var backend, out _) ? backend : null,
            };
        }

        private static bool TryParseEvery(string text, out TimeSpan? interval, out long? events)
        {
            interval = null;
            events = null;
            if (Durations.TryParse(text, out var time) && time > TimeSpan.Zero && !IsBareNumber(text))
            {
                interval = time;
                return true;
            }

            if (Commands.Options.TryParseCount(text, out long count) && count > 0)
            {
                events = count;
                return true;
            }

            return false;
        }

        private static bool IsBareNumber(string text) => text.Trim().All(c => char.IsDigit(c) || c is '_' or ',');
    }
}

/// <summary>Where <c>--metrics</c> sends the job's metrics.</summary>
/// <param name="Kind"><c>prometheus</c> or <c>otlp</c>.</param>
/// <param name="Address">For Prometheus the listener's address (<c>http://localhost:9464/</c> when only a port is given); for OTLP the collector's URL.</param>
internal sealed record MetricsTarget(string Kind, Uri Address)
{
    public static bool TryParse(string text, out MetricsTarget? target, out string reason)
    {
        target = null;
        reason = "";
        if (text.StartsWith("prometheus:", StringComparison.OrdinalIgnoreCase))
        {
            string rest = text["prometheus:".Length..];
            int colon = rest.LastIndexOf(':');
            string host = colon < 0 ? "localhost" : rest[..colon];
            string portText = colon < 0 ? rest : rest[(colon + 1)..];
            if (!int.TryParse(portText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535 || host.Length == 0)
            {
                reason = $"'{text}' is not prometheus:PORT or prometheus:HOST:PORT (for example prometheus:9464).";
                return false;
            }

            if (!Uri.TryCreate($"http://{host}:{port}/", UriKind.Absolute, out var listener))
            {
                reason = $"'{host}' in '{text}' is not a host name or IP address.";
                return false;
            }

            target = new MetricsTarget("prometheus", listener);
            return true;
        }

        if (text.Equals("otlp", StringComparison.OrdinalIgnoreCase))
        {
            target = new MetricsTarget("otlp", new Uri("http://localhost:4317"));
            return true;
        }

        if (text.StartsWith("otlp:", StringComparison.OrdinalIgnoreCase) && Uri.TryCreate(text["otlp:".Length..], UriKind.Absolute, out var url) && url.Scheme is "http" or "https")
        {
            target = new MetricsTarget("otlp", url);
            return true;
        }

        reason = $"'{text}' is not prometheus:PORT, otlp or otlp:URL (for example otlp:http://collector:4317).";
        return false;
    }

}

/// <summary>Where <c>--dashboard</c> listens: <c>HOST:PORT</c>.</summary>
internal sealed record DashboardAddress(string Host, int Port)
{
    public string Url => $"http://{Host}:{Port}/";

    public static bool TryParse(string text, out DashboardAddress? address, out string reason)
    {
        address = null;
        reason = "";
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int port) || port is < 0 or > 65535)
        {
            reason = $"'{text}' is not HOST:PORT (for example 127.0.0.1:8080; port 0 picks a free one).";
            return false;
        }

        address = new DashboardAddress(text[..colon], port);
        return true;
    }
}
