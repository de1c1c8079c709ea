using System.CommandLine;
using LinqStream.Cli.Operations;
using LinqStream.Cli.Showcase;

namespace LinqStream.Cli.Commands;

/// <summary><c>linqstream checkpoints DIR</c>: lists the checkpoints a <c>run --checkpoints DIR</c> job left, newest first.</summary>
internal static class CheckpointsCommand
{
    public static Command Create()
    {
        var directory = new Argument<DirectoryInfo>("DIR") { Description = "The checkpoint directory of a job (run --checkpoints DIR)." }.AcceptExistingOnly();
        var command = new Command("checkpoints", "List a job's checkpoints, newest first: id, time taken, size, and each source's position (events read, stream entry or file offset). "
            + "A damaged checkpoint is listed with the reason; a restore skips it.")
        {
            directory,
        };
        command.SetAction((parse, cancellationToken) => ListAsync(parse.GetValue(directory)!.FullName, Console.Out, cancellationToken));
        return command;
    }

    internal static async Task<int> ListAsync(string path, TextWriter output, CancellationToken cancellationToken)
    {
        var store = new DirectoryCheckpointStore(path);
        var ids = store.List();
        if (ids.Count == 0)
        {
            await output.WriteLineAsync($"No checkpoints in {store.Directory}.").ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        await output.WriteLineAsync($"{ids.Count} checkpoint{(ids.Count == 1 ? "" : "s")} in {store.Directory}, newest first:").ConfigureAwait(false);
        foreach (long id in ids)
        {
            CheckpointInfo info;
            try
            {
                info = CheckpointInfo.Read(await store.LoadAsync(id, cancellationToken).ConfigureAwait(false), store.Describe(id));
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or EndOfStreamException)
            {
                await output.WriteLineAsync($"  {id,6}  damaged: {ex.Message}").ConfigureAwait(false);
                continue;
            }

            await output.WriteLineAsync($"  {info.Id,6}  {info.TakenAt:yyyy-MM-dd HH:mm:ss.fff} UTC  {CheckpointText.Size(info.Bytes),9}  query {info.Fingerprint[..12]}").ConfigureAwait(false);
            foreach (var source in info.Sources)
            {
                string at = source.Position is { } position ? $", at {CheckpointText.Position(position)}" : "";
                await output.WriteLineAsync($"          {source.Part}: {Format.Count(source.EventsRead)} events read{at}").ConfigureAwait(false);
            }
        }

        return ExitCodes.Ok;
    }
}
