using System.Reflection;
using LinqStream.Cli.Input;
using LinqStream.Cli.Output;
using LinqStream.Cli.Scripting;
using LinqStream.Orleans;

namespace LinqStream.Cli.Cluster;

/// <summary>
/// The job definition every <c>linqstream silo</c> registers: a <c>.csx</c> query script whose text travels in the submission and
/// is compiled on the silo that activates the job (again on the silo that takes it over; once per silo, <see cref="CompiledScripts"/>), reading Redis or NATS streams and writing
/// its results to a fenced Redis stream, as <c>linqstream run --source ... --sink redis://...</c> would.
/// </summary>
internal static class ScriptJob
{
    public const string Name = "script";

    private static readonly MethodInfo s_run = typeof(ScriptJob).GetMethod(nameof(RunTyped), BindingFlags.NonPublic | BindingFlags.Static)!;

    public static JobSubmission Submission(string scriptPath, string code, IReadOnlyList<string> sources, string sink, string timeField, TimeSpan maxDelay, TimeSpan? idleTimeout, long checkpointEvery, TimeSpan checkpointInterval) => new()
    {
        Definition = Name,
        Parameters = new()
        {
            ["script"] = code,
            ["scriptPath"] = scriptPath,
            ["sources"] = string.Join('\n', sources),
            ["sink"] = sink,
            ["time"] = timeField,
            ["maxDelayMs"] = ((long)maxDelay.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["idleTimeoutMs"] = idleTimeout is { } idle ? ((long)idle.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture) : "",
        },
        CheckpointEveryEvents = checkpointEvery,
        CheckpointInterval = checkpointInterval,
    };

    public static ClusterJobRun Create(ClusterJobContext context)
    {
        var path = context.Parameter("scriptPath");
        var script = CompiledScripts.Get(path, context.Parameter("script")); // once per silo, however many tasks and epochs start here

        var sources = context.Parameter("sources").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(u => SourceUri.TryParse(u, out var parsed, out string reason) ? parsed! : throw new ArgumentException($"The job '{context.JobId}': source {reason}."))
            .ToArray();
        if (!SourceUri.TryParse(context.Parameter("sink"), out var sink, out string sinkReason) || sink!.Scheme != "redis")
        {
            throw new ArgumentException($"The job '{context.JobId}': the sink must be a Redis stream, redis://HOST:PORT/STREAM (the one sink the cluster fences){(sinkReason.Length > 0 ? ": " + sinkReason : "")}.");
        }

        var maxDelay = TimeSpan.FromMilliseconds(long.Parse(context.Parameter("maxDelayMs"), System.Globalization.CultureInfo.InvariantCulture));
        TimeSpan? idle = context.Parameter("idleTimeoutMs") is { Length: > 0 } ms ? TimeSpan.FromMilliseconds(long.Parse(ms, System.Globalization.CultureInfo.InvariantCulture)) : null;
        // Bounded: each source ends at the message that was last when it opened, so a job over a finished input completes.
        var deadLetters = new MessageDeadLetters(Console.Error, null, strict: false);
        var messages = new MessageInput(sources, context.Parameter("time"), maxDelay, follow: false, idle, deadLetters);
        var query = script.RunAsync(new RunGlobals(messages, new IngressStatistics()), CancellationToken.None).GetAwaiter().GetResult();
        var type = QueryRunner.ResultType(query) ?? throw Commands.RunCommand.NotAQuery(path, query);
        query = WrongKindLines.Apply(query!, WrongKindLines.ForSources(deadLetters, string.Join(", ", sources.Select(s => s.Text))));
        try
        {
            return (ClusterJobRun)s_run.MakeGenericMethod(type).Invoke(null, [context, query, sink])!;
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            throw ex.InnerException;
        }
    }

    private static ClusterJobRun RunTyped<T>(ClusterJobContext context, IQStream<T> query, SourceUri sink) =>
        context.Run(query, new RedisStreamSink<T>(sink.Address, sink.Name, EventSerializer<T>.Json(ResultJson.Options), new RedisStreamSinkOptions { Fence = context.Fence }));
}
