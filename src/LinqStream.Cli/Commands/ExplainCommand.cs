using System.CommandLine;
using LinqStream.Cli.Showcase;
using Spectre.Console;

namespace LinqStream.Cli.Commands;

/// <summary><c>linqstream explain --query q5</c>: prints the logical plan, the passes and the physical plan of a built-in query.</summary>
internal static class ExplainCommand
{
    public static Command Create()
    {
        var query = new Option<string>("--query", "-q")
        {
            Description = "The built-in query: q0 (pass-through), q1 (currency), q2 (selection), q5 (hot items), q7 (highest bid), q8 (new sellers, window join), q11 (sessions), join (interval join).",
            Required = true,
        };
        query.AcceptOnlyFromAmong(BuiltInQueries.Names);

        var command = new Command("explain", "Print the plans of a built-in query (Explain()).") { query };
        command.SetAction(parse => Run(parse.GetValue(query)!));
        return command;
    }

    private static int Run(string name)
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
}
