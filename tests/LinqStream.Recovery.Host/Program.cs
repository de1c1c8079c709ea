using LinqStream.Recovery.Host;

// The process the recovery tests start, kill and restart. Modes:
//   job --input BIDS --auctions AUCTIONS --out OUT --dead-letter DL --checkpoints DIR --every N [--max-line BYTES] [--disorder-ms MS] [--parallelism N] [--batch-size N]
//   backpressure --seconds S [--rate EVENTS_PER_S] [--drain EVENTS_PER_S] [--payload CHARS]
//   produce --kind redis|nats --server ADDR --stream NAME --events N        generated bids into a stream (soak input)
//   connector --kind redis|nats --server ADDR --input NAME --output NAME --checkpoints DIR [--every N]   the soak's job
//   dump --kind redis|nats --server ADDR --stream NAME --file PATH          an output stream as lines, for comparison
//   memory [--keys N] --checkpoint yes|no [--shape window|session]   issue #23's measurement: heap and peak around one window of N distinct keys
//   sessions [--keys N] --state heap|rocksdb:DIR [--hot-keys N] [--memory-every SECONDS]   issue #18: a session window over N keys (exit 3: out of memory)
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
        "produce" => await ConnectorJob.ProduceAsync(options).ConfigureAwait(false),
        "connector" => await ConnectorJob.RunAsync(options).ConfigureAwait(false),
        "dump" => await ConnectorJob.DumpAsync(options).ConfigureAwait(false),
        "memory" => await MemoryRun.RunAsync(options).ConfigureAwait(false),
        "sessions" => await SessionStateRun.RunAsync(options).ConfigureAwait(false),
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
