using System.CommandLine;
using LinqStream.Cli.Commands;

namespace LinqStream.Cli;

/// <summary>The <c>linqstream</c> command tree and the mapping of its outcomes to exit codes.</summary>
internal static class CliApp
{
    public static RootCommand CreateRootCommand() => new("linqstream: event-time streaming queries written in C# LINQ.")
    {
        DemoCommand.Create(),
        ExplainCommand.Create(),
        RunCommand.Create(),
        NexmarkCommand.Create(),
        ProduceCommand.Create(),
        CheckpointsCommand.Create(),
        Cluster.SiloCommand.Create(),
        Cluster.SubmitCommand.Create(),
        Cluster.JobsCommand.Create(),
    };

    /// <summary>How long a command may take to finish after Ctrl+C or SIGTERM before the process exits with 130 or 143.</summary>
    public static readonly TimeSpan ProcessTerminationTimeout = TimeSpan.FromMinutes(3);

    /// <summary>Parses <paramref name="args"/> and runs the command; a parse error prints the error and help and exits with <see cref="ExitCodes.Usage"/>.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var parse = CreateRootCommand().Parse(args);
        // Ctrl+C cancels the command's token; a job then takes its final checkpoint, which may take longer than the default 2 s.
        int code = await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = ProcessTerminationTimeout }).ConfigureAwait(false);
        return parse.Errors.Count > 0 ? ExitCodes.Usage : code;
    }
}
