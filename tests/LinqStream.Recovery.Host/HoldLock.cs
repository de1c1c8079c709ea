namespace LinqStream.Recovery.Host;

/// <summary>
/// The <c>hold-lock</c> mode: takes a checkpoint directory's lock as a job would, prints <c>locked</c>, and holds it until its
/// <c>--seconds</c> have passed (60 by default) or it is killed, which leaves the lock file behind as a crash would.
/// </summary>
internal static class HoldLock
{
    public static async Task<int> RunAsync(HostArguments args)
    {
        var store = new DirectoryCheckpointStore(args.Text("checkpoints"));
        using (store.Acquire(args.Text("owner"), warning => Console.WriteLine("warning " + warning)))
        {
            Console.WriteLine("locked");
            await Task.Delay(TimeSpan.FromSeconds(args.Number("seconds", 60))).ConfigureAwait(false);
        }

        Console.WriteLine("released");
        return 0;
    }
}
