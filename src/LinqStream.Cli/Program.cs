using LinqStream.Cli;

return await CliApp.RunAsync(args).ConfigureAwait(false);
