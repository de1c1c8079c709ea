using LinqStream.Recovery.Host;

// The process the recovery tests start, kill and restart. Modes:
//   job --input BIDS --auctions AUCTIONS --out OUT --dead-letter DL --checkpoints DIR --every N [--max-line BYTES] [--disorder-ms MS]
//   backpressure --seconds S [--rate EVENTS_PER_S] [--drain EVENTS_PER_S] [--payload CHARS]
//   hold-lock --checkpoints DIR --owner NAME [--seconds S]   holds the directory's lock for S seconds (60) after printing "locked"
// Exit codes: 0 done, 1 the job failed (message on stderr), 2 bad arguments.
try
{
    if (args.Length == 0)
    {
        throw new ArgumentException("Give a mode: job or backpressure.");
    }

    var options = HostArguments.Parse(args.AsSpan(1));
    return args[0] switch
    {
        "job" => await JoinJob.RunAsync(options).ConfigureAwait(false),
        "backpressure" => await BackpressureRun.RunAsync(options).ConfigureAwait(false),
        "hold-lock" => await HoldLock.RunAsync(options).ConfigureAwait(false),
        _ => throw new ArgumentException($"Unknown mode '{args[0]}'; the modes are job and backpressure."),
    };
}
catch (ArgumentException ex)
{
    await Console.Error.WriteLineAsync("usage: " + ex.Message).ConfigureAwait(false);
    return 2;
}
catch (Exception ex)
{
    await Console.Error.WriteLineAsync(ex.ToString()).ConfigureAwait(false);
    return 1;
}
