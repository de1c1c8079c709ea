using System.CommandLine;
using LinqStream.Cli.Input;
using LinqStream.Cli.Output;
using LinqStream.Cli.Scripting;
using LinqStream.Cli.Showcase;
using Spectre.Console;

namespace LinqStream.Cli.Commands;

/// <summary>
/// <c>linqstream explain --query q5</c> or <c>linqstream explain QUERY.csx</c>: prints the logical plan, the passes and the physical plan of a
/// built-in query or of a <c>run</c> script's query (built over an empty input unless <c>--input</c> is given; nothing runs).
/// </summary>
internal static class ExplainCommand
{
    public static Command Create()
    {
        var script = new Argument<FileInfo>("QUERY.csx") { Description = "A query script, as for 'run'.", Arity = ArgumentArity.ZeroOrOne }.AcceptExistingOnly();
        var query = new Option<string>("--query", "-q")
        {
            Description = "The built-in query: q0 (pass-through), q1 (currency), q2 (selection), q5 (hot items), q7 (highest bid), q8 (new sellers, window join), q11 (sessions), join (interval join).",
        };
        query.AcceptOnlyFromAmong(BuiltInQueries.Names);
        var input = new Option<FileInfo>("--input", "-i") { Description = "For a script: the input file whose schema 'input' infers (optional; the plan does not depend on the data)." }.AcceptExistingOnly();
        var time = new Option<string>("--time", "-t") { Description = "For a script: the time field, as for 'run'.", DefaultValueFactory = _ => "time" };

        var command = new Command("explain", "Print the plans of a built-in query or of a query script (Explain()).") { script, query, input, time };
        command.Validators.Add(result =>
        {
            bool hasScript = result.GetResult(script) is { Tokens.Count: > 0 };
            bool hasQuery = result.GetResult(query) is not null;
            if (hasScript == hasQuery)
            {
                result.AddError("Give either a query script (explain QUERY.csx) or a built-in query (explain --query q5).");
            }
        });
        command.SetAction((parse, cancellationToken) =>
            parse.GetResult(script) is { Tokens.Count: > 0 } scriptResult
                ? ExplainScriptAsync(scriptResult.Tokens[0].Value, parse.GetResult(input)?.Tokens[0].Value, parse.GetValue(time)!, cancellationToken)
                : Task.FromResult(ExplainBuiltIn(parse.GetValue(query)!)));
        return command;
    }

    private static int ExplainBuiltIn(string name)
    {
        try
        {
            // Plain output: plans are long lines that a console-width wrap would break.
            Console.Out.Write(BuiltInQueries.Explain(name));
            return ExitCodes.Ok;
        }
        catch (Exception ex)
        {
            AnsiConsole.Console.Write(new Markup($"[red]Explain failed:[/] {Markup.Escape(ex.Message)}{Environment.NewLine}"));
            return ExitCodes.Failure;
        }
    }

    private static async Task<int> ExplainScriptAsync(string scriptPath, string? inputPath, string timeField, CancellationToken cancellationToken)
    {
        var script = QueryScript.Load(scriptPath);
        if (!await RunCommand.ReportDiagnosticsAsync(script, quiet: false, cancellationToken).ConfigureAwait(false))
        {
            return ExitCodes.BadQuery;
        }

        using var malformed = new MalformedLines(inputPath ?? "", TextWriter.Null, null);
        var file = inputPath is null
            ? null
            : new InputFile(new InputOptions(inputPath, inputPath.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? InputFormat.Csv : InputFormat.Jsonl, timeField, TimeSpan.Zero, Strict: false), malformed);
        try
        {
            object? query = await script.RunAsync(new RunGlobals(file, new IngressStatistics(), timeField), cancellationToken).ConfigureAwait(false);
            Console.Out.Write(QueryRunner.Explain(query) ?? throw RunCommand.NotAQuery(scriptPath, query));
            return ExitCodes.Ok;
        }
        catch (Exception ex)
        {
            return RunCommand.ReportFailure(script, ex);
        }
    }
}
