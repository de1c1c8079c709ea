using System.CommandLine;
using System.Diagnostics;
using LinqStream.Cli.Input;
using LinqStream.Cli.Operations;
using LinqStream.Cli.Output;
using LinqStream.Cli.Scripting;
using LinqStream.Cli.Showcase;
using Microsoft.CodeAnalysis;
using Spectre.Console;

namespace LinqStream.Cli.Commands;

/// <summary><c>linqstream run QUERY.csx --input FILE</c>: compiles a C# query script with Roslyn and runs it over a JSON-lines or CSV file.</summary>
internal static class RunCommand
{
    public const string Contract =
        "The script is C# (Roslyn scripting). Its globals: 'input', an IQStream<Row> over the file whose schema is inferred from the "
        + "first record (r.Long(\"price\"), r.Double(..), r.Decimal(..), r.String(..), r.Bool(..), r.DateTime(..), r.Time = the event time), "
        + "and InputAs<T>(), the file read into a record T the script declares (System.Text.Json, names case-insensitive). "
        + "The script's last expression, written without a semicolon, is the query: an IQStream<T>. "
        + "Exit codes: 0 done, 1 failed while running, 2 bad usage, 3 bad query (compiler diagnostics, untranslatable query), "
        + "4 bad input (no record or time field; a malformed line under --strict).";

    public static Command Create()
    {
        var script = new Argument<FileInfo>("QUERY.csx") { Description = "The C# query script." }.AcceptExistingOnly();
        var input = new Option<FileInfo>("--input", "-i") { Description = "The input file: JSON lines (one object per line) or CSV with a header line." }.AcceptExistingOnly();
        var source = new Option<string[]>("--source", "-s")
        {
            Description = "Instead of a file, read " + SourceUri.Forms + " (one JSON object per message); repeat it for the partitions of one input. "
                + "Reads what is there now and stops, unless --follow; " + SourceUri.CountForm + ".",
            Arity = ArgumentArity.OneOrMore,
        };
        source.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                if (!SourceUri.TryParse(token.Value, out _, out string reason))
                {
                    result.AddError($"--source: {reason}.");
                }
            }
        });
        var follow = new Option<bool>("--follow") { Description = "With --source: keep reading new messages until Ctrl+C (results come out as the watermark passes)." };
        var idleTimeout = new Option<TimeSpan?>("--idle-timeout")
        {
            Description = "With several --source partitions: a partition with no message for this long stops holding the watermark back (200ms, 5s).",
            CustomParser = result => Durations.Parse(result, "--idle-timeout"),
        };
        var format = new Option<string>("--format", "-f") { Description = "jsonl or csv (default: csv for a .csv file, else jsonl)." };
        format.AcceptOnlyFromAmong("jsonl", "csv");
        var time = new Option<string>("--time", "-t")
        {
            Description = "The field holding each record's event time: ISO 8601 text (UTC unless it has an offset) or whole Unix milliseconds; for InputAs<T>, a DateTime, DateTimeOffset or long property.",
            DefaultValueFactory = _ => "time",
        };
        var maxDelay = new Option<TimeSpan>("--max-delay")
        {
            Description = "Sort records that arrive up to this much earlier than the latest event time (500ms, 5s, 00:00:05); later ones are malformed. Default 0: the file must be in time order.",
            CustomParser = result => Durations.Parse(result, "--max-delay"),
        };
        var maxLineLength = new Option<int>("--max-line-length")
        {
            Description = "The longest input line read, in bytes (default 16 MiB); a longer line is malformed: reported, dead-lettered and skipped.",
            DefaultValueFactory = _ => InputOptions.DefaultMaxLineLength,
        };
        maxLineLength.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 1)
            {
                result.AddError("--max-line-length must be at least 1 byte.");
            }
        });
        var output = new Option<FileInfo>("--out", "-o") { Description = "Write every result as a JSON line to this file instead of showing a table of the first 50." };
        var deadLetter = new Option<FileInfo>("--dead-letter") { Description = "Write each malformed line as a JSON line {file, line, reason, text} to this file." };
        var strict = new Option<bool>("--strict") { Description = "Stop at the first malformed line, with exit code 4." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress bar, warnings or summary line; results and errors only." };
        var progressInterval = ProgressIntervalOption();
        var jobOptions = new JobSettings.Options();
        var parallelism = ParallelismOption.Create();

        var command = new Command("run", "Run a C# LINQ query script over a JSON-lines or CSV file, or over Redis or NATS streams. " + Contract)
        {
            script, input, source, follow, idleTimeout, format, time, maxDelay, maxLineLength, output, deadLetter, strict, quiet, progressInterval, parallelism,
        };
        foreach (var option in jobOptions.All)
        {
            command.Options.Add(option);
        }

        jobOptions.AddValidators(command);
        command.Validators.Add(result =>
        {
            bool hasInput = result.GetResult(input) is not null, hasSource = result.GetResult(source) is not null;
            if (hasInput == hasSource)
            {
                result.AddError("Give the input with --input FILE or --source URI (not both).");
            }
        });
        command.SetAction((parse, cancellationToken) =>
        {
            var job = jobOptions.Read(parse, parse.GetResult(script)!.Tokens[0].Value);
            if (parse.GetValue(source) is { Length: > 0 } uris)
            {
                var sources = uris.Select(u => SourceUri.TryParse(u, out var parsed, out _) ? parsed! : throw new InvalidOperationException(u)).ToArray();
                return RunSourcesAsync(
                    parse.GetResult(script)!.Tokens[0].Value, sources, parse.GetValue(time)!, parse.GetValue(maxDelay), parse.GetValue(follow), parse.GetValue(idleTimeout),
                    parse.GetValue(strict), parse.GetValue(output)?.FullName, parse.GetValue(deadLetter)?.FullName, parse.GetValue(quiet), job, parse.GetValue(parallelism), cancellationToken);
            }

            var file = parse.GetValue(input)!;
            string? formatName = parse.GetValue(format);
            var inputFormat = (formatName ?? (file.Extension.Equals(".csv", StringComparison.OrdinalIgnoreCase) ? "csv" : "jsonl")) == "csv" ? InputFormat.Csv : InputFormat.Jsonl;
            var options = new InputOptions(parse.GetResult(input)!.Tokens[0].Value, inputFormat, parse.GetValue(time)!, parse.GetValue(maxDelay), parse.GetValue(strict))
            {
                MaxLineLength = parse.GetValue(maxLineLength),
            };
            return RunAsync(
                parse.GetResult(script)!.Tokens[0].Value, options, parse.GetValue(output)?.FullName, parse.GetValue(deadLetter)?.FullName, parse.GetValue(quiet),
                parse.GetValue(progressInterval), job, parse.GetValue(parallelism), cancellationToken);
        });
        return command;
    }

    /// <summary><c>--progress-interval</c>, shared with <c>nexmark</c>.</summary>
    internal static Option<TimeSpan?> ProgressIntervalOption() => new("--progress-interval")
    {
        Description = "How often progress (events read, events/s, watermark lag) is shown: the bar on a terminal (default 250ms), else a "
            + "'progress:' line on stderr (default 5s). 0 = every few batches.",
        CustomParser = result => Durations.Parse(result, "--progress-interval"),
    };

    private static async Task<int> RunAsync(
        string scriptPath, InputOptions options, string? outPath, string? deadLetterPath, bool quiet, TimeSpan? progressInterval, JobSettings job, int parallelism, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var script = QueryScript.Load(scriptPath);
        if (!await ReportDiagnosticsAsync(script, quiet, cancellationToken).ConfigureAwait(false))
        {
            return ExitCodes.BadQuery;
        }

        using var malformed = new MalformedLines(options.DisplayName, Console.Error, deadLetterPath);
        var file = new InputFile(options, malformed);
        var statistics = new IngressStatistics();
        var console = AnsiConsole.Console;
        bool bar = !quiet && console.Profile.Capabilities.Interactive;
        // A job is watched through its metrics and dashboard; its own loop does not drive the progress bar.
        bar &= !job.IsJob;
        var monitor = quiet || job.IsJob ? null : new ProgressMonitor("run", bar ? null : Console.Error);
        object? query;
        bool wrongKindInstalled;
        try
        {
            query = await script.RunAsync(new RunGlobals(file, statistics), cancellationToken).ConfigureAwait(false);
            if (QueryRunner.ResultType(query) is null)
            {
                throw NotAQuery(scriptPath, query);
            }

            if (monitor is not null)
            {
                query = ProgressMonitor.Attach(query!, monitor, ProgressMonitor.Interval(progressInterval, bar));
            }

            // A value of the wrong kind read by the script is a malformed line: reported, dead-lettered, skipped (fatal under --strict).
            // In a job too: there the query keeps this dead-letter sink (MalformedLines owns --dead-letter for a file).
            query = WrongKindLines.Apply(query!, WrongKindLines.ForFile(malformed, options), out wrongKindInstalled);

            query = ParallelismOption.Apply(query!, parallelism);
        }
        catch (Exception ex)
        {
            return ReportFailure(script, ex);
        }

        if (job.IsJob)
        {
            // Malformed lines of the file are reported by MalformedLines (into --dead-letter) as the file is read.
            var jobOutput = new JobOutput(outPath, null, options.Strict, quiet, () => file.Events, options.DisplayName) { QueryKeepsDeadLetters = wrongKindInstalled };
            return await JobRunner.RunAsync(script, query!, job, jobOutput, cancellationToken).ConfigureAwait(false);
        }

        using IResultSink sink = outPath is null ? new TableSink(console) : new JsonLinesSink(outPath);
        var run = Task.Run(() => QueryRunner.Run(query!, sink), cancellationToken);
        if (bar)
        {
            await ShowProgressAsync(console, file, monitor!, run, stopwatch, cancellationToken).ConfigureAwait(false);
        }

        var (results, error) = await run.ConfigureAwait(false);
        if (error is not null)
        {
            sink.Complete(results); // what came out before the failure is correct: those windows had closed
            return ReportFailure(script, error);
        }

        sink.Complete(results);
        stopwatch.Stop();

        if (!quiet)
        {
            string dead = malformed.Count == 0 ? "" : $", {Format.Count(malformed.Count)} malformed" + (deadLetterPath is null ? "" : $" (in {deadLetterPath})");
            string late = statistics.Dropped == 0 ? "" : $", {Format.Count(statistics.Dropped)} dropped as late";
            string where = outPath is null ? "" : $" (written to {outPath})";
            string lag = monitor?.MaxLag is { } maxLag ? $", watermark lag up to {ProgressMonitor.Lag(maxLag)}" : "";
            Console.Out.WriteLine(
                $"run: {Format.Count(file.Lines)} lines, {Format.Count(file.Events)} events{dead}{late}, {Format.Count(results)} results{where} in {Format.Seconds(stopwatch.Elapsed)}{lag}");
        }

        return ExitCodes.Ok;
    }

    private static async Task<int> RunSourcesAsync(
        string scriptPath, SourceUri[] sources, string timeField, TimeSpan maxDelay, bool follow, TimeSpan? idleTimeout, bool strict, string? outPath, string? deadLetterPath, bool quiet, JobSettings job, int parallelism, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var script = QueryScript.Load(scriptPath);
        if (!await ReportDiagnosticsAsync(script, quiet, cancellationToken).ConfigureAwait(false))
        {
            return ExitCodes.BadQuery;
        }

        // A job sends dead letters to its own committed sink (JobDeadLetterSink), which owns the --dead-letter file.
        using var deadLetters = new MessageDeadLetters(Console.Error, job.IsJob ? null : deadLetterPath, strict);
        var messages = new MessageInput(sources, timeField, maxDelay, follow, idleTimeout, deadLetters);
        var statistics = new IngressStatistics();
        object? query;
        try
        {
            query = await script.RunAsync(new RunGlobals(messages, statistics), cancellationToken).ConfigureAwait(false);
            if (QueryRunner.ResultType(query) is null)
            {
                throw NotAQuery(scriptPath, query);
            }

            // A value of the wrong kind read by the script is a malformed message: dead-lettered and skipped (fatal under --strict).
            // In a job the engine's dead letter goes to the job's committed dead-letter sink instead (exactly once with the output).
            query = WrongKindLines.Apply(query!, WrongKindLines.ForSources(deadLetters, string.Join(", ", sources.Select(s => s.Text))));

            query = ParallelismOption.Apply(query!, parallelism);
        }
        catch (Exception ex)
        {
            return ReportFailure(script, ex);
        }

        if (job.IsJob)
        {
            var jobOutput = new JobOutput(outPath, deadLetterPath, strict, quiet, () => messages.Events, string.Join(", ", sources.Select(s => s.Text)));
            return await JobRunner.RunAsync(script, query!, job, jobOutput, cancellationToken).ConfigureAwait(false);
        }

        using IResultSink sink = outPath is null ? new TableSink(AnsiConsole.Console) : new JsonLinesSink(outPath);
        var (results, error) = await QueryRunner.RunLiveAsync(query!, sink, cancellationToken).ConfigureAwait(false);
        sink.Complete(results);
        if (error is not null)
        {
            return ReportFailure(script, error);
        }

        if (!quiet)
        {
            string dead = deadLetters.Count == 0 ? "" : $", {Format.Count(deadLetters.Count)} malformed" + (deadLetterPath is null ? "" : $" (in {deadLetterPath})");
            string late = statistics.Dropped == 0 ? "" : $", {Format.Count(statistics.Dropped)} dropped as late";
            string where = outPath is null ? "" : $" (written to {outPath})";
            Console.Out.WriteLine(
                $"run: {Format.Count(messages.Events)} events from {string.Join(", ", sources.Select(s => s.Text))}{dead}{late}, {Format.Count(results)} results{where} in {Format.Seconds(stopwatch.Elapsed)}");
        }

        return ExitCodes.Ok;
    }

    internal static ScriptContractException NotAQuery(string scriptPath, object? value) =>
        new($"{scriptPath}: the script's last expression must be the query, an IQStream<T> written without a semicolon; it "
            + (value is null ? "gave no value (does the last line end with ';'?)." : $"is a {value.GetType().Name}."));

    /// <summary>
    /// Prints the compiler's errors and warnings and LinqStream's analyzer diagnostics (LSQ0001..., errors, warnings and notes) in
    /// line order, with line numbers; returns false when there are errors (the query must not run).
    /// </summary>
    internal static async Task<bool> ReportDiagnosticsAsync(QueryScript script, bool quiet, CancellationToken cancellationToken)
    {
        var analyzers = await script.AnalyzeAsync(cancellationToken).ConfigureAwait(false);
        var diagnostics = script.Compile().Where(d => d.Severity >= DiagnosticSeverity.Warning)
            .Concat(analyzers.Where(d => d.Severity >= DiagnosticSeverity.Info))
            .OrderBy(d => d.Location.GetMappedLineSpan().StartLinePosition)
            .ToArray();
        var errors = diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        foreach (var diagnostic in errors.Length > 0 || !quiet ? diagnostics : [])
        {
            Console.Error.WriteLine(script.Format(diagnostic));
        }

        if (errors.Length > 0)
        {
            Console.Error.WriteLine($"{script.Path}: {errors.Length} error{(errors.Length == 1 ? "" : "s")}; the query did not run.");
            return false;
        }

        return true;
    }

    internal static int ReportFailure(QueryScript script, Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case MalformedInputException:
                    Console.Error.WriteLine($"Stopped at the first malformed line (--strict): {e.Message}");
                    return ExitCodes.BadInput;
                case InputSchemaException:
                    Console.Error.WriteLine(e.Message);
                    return ExitCodes.BadInput;
                case ScriptContractException:
                    Console.Error.WriteLine(e.Message);
                    return ExitCodes.BadQuery;
                case QueryTranslationException:
                    Console.Error.WriteLine($"{script.Path}: the query cannot run as a stream.");
                    Console.Error.WriteLine(e.Message);
                    return ExitCodes.BadQuery;
                case RowFieldException:
                    Console.Error.WriteLine($"{script.Path}: {e.Message}");
                    return ExitCodes.BadQuery;
            }
        }

        string? at = ScriptLine(script, error);
        Console.Error.WriteLine($"{script.Path}{at}: the query failed: {error.GetType().Name}: {error.Message}");
        for (var inner = error.InnerException; inner is not null; inner = inner.InnerException)
        {
            Console.Error.WriteLine($"  {inner.GetType().Name}: {inner.Message}");
        }

        return ExitCodes.Failure;
    }

    /// <summary>The script line an exception came from (scripts are compiled with debug information), as <c>(line N)</c>.</summary>
    private static string? ScriptLine(QueryScript script, Exception error)
    {
        var frame = new StackTrace(error, fNeedFileInfo: true).GetFrames()
            .FirstOrDefault(f => f.GetFileName() is { } name && name.EndsWith(Path.GetFileName(script.Path), StringComparison.OrdinalIgnoreCase));
        return frame is null ? null : $"(line {frame.GetFileLineNumber()})";
    }

    private static async Task ShowProgressAsync(IAnsiConsole console, InputFile file, ProgressMonitor monitor, Task run, Stopwatch stopwatch, CancellationToken cancellationToken) =>
        await console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask("reading", maxValue: Math.Max(1, file.Length));
                while (!run.IsCompleted)
                {
                    task.Value = file.BytesRead;
                    task.Description = $"{Format.Count(file.Events)} events, {Format.Rate(file.Events, stopwatch.Elapsed)} events/s, "
                        + $"watermark lag {ProgressMonitor.Lag(monitor.Latest?.WatermarkLag)}";
                    await Task.WhenAny(run, Task.Delay(100, cancellationToken)).ConfigureAwait(false);
                }

                task.Value = task.MaxValue;
                task.Description = $"{Format.Count(file.Events)} events";
            }).ConfigureAwait(false);
}
