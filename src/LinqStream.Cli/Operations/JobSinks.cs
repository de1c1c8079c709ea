using LinqStream.Cli.Input;
using LinqStream.Cli.Output;

namespace LinqStream.Cli.Operations;

/// <summary>The results of a job shown as <c>run</c>'s table (no <c>--out</c> or <c>--sink</c>): nothing to commit, so the job is at-least-once.</summary>
internal sealed class TableEventSink<T>(IResultSink table) : EventSink<T>
{
    private long _count;

    public override string Name => "the results table";

    public override bool IsTransactional => false;

    public override ValueTask OpenAsync(byte[]? committed, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public override ValueTask WriteAsync(ReadOnlyMemory<T> results, CancellationToken cancellationToken)
    {
        foreach (var result in results.Span)
        {
            table.Write(result);
        }

        _count += results.Length;
        return ValueTask.CompletedTask;
    }

    public override ValueTask<byte[]> PrepareCommitAsync(long checkpointId, CancellationToken cancellationToken) => ValueTask.FromResult(Array.Empty<byte>());

    public override ValueTask CompleteAsync(CancellationToken cancellationToken)
    {
        table.Complete(_count);
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// The dead letters of a <c>run</c> job: the first <see cref="MalformedLines.MaxPrinted"/> on standard error, every one as a JSON line
/// <c>{"source","position","reason","text"}</c> in <c>--dead-letter</c> (committed with the checkpoints, so exactly once), and under
/// <c>--strict</c> the first one stops the job (exit 4).
/// </summary>
/// <remarks>
/// Committing: the file is; the lines on standard error are a log, and after a restore the dead letters since the last checkpoint
/// are printed again. That is why this sink reports itself transactional even without a file.
/// </remarks>
internal sealed class JobDeadLetterSink(TextWriter console, string? path, bool strict) : EventSink<DeadLetter>
{
    private readonly JsonLinesFileSink<DeadLetterLine>? _file = path is null ? null : new JsonLinesFileSink<DeadLetterLine>(path);
    private long _count;

    public long Count => Interlocked.Read(ref _count);

    public override string Name => path ?? "standard error";

    public override bool IsTransactional => true;

    public override ValueTask OpenAsync(byte[]? committed, CancellationToken cancellationToken) =>
        _file?.OpenAsync(committed, cancellationToken) ?? ValueTask.CompletedTask;

    public override async ValueTask WriteAsync(ReadOnlyMemory<DeadLetter> results, CancellationToken cancellationToken)
    {
        var lines = new DeadLetterLine[results.Length];
        for (int i = 0; i < results.Length; i++)
        {
            var letter = results.Span[i];
            long n = Interlocked.Increment(ref _count);
            string message = $"{letter.Source} {letter.Position}: {letter.Reason}";
            if (n <= MalformedLines.MaxPrinted)
            {
                await console.WriteLineAsync(message).ConfigureAwait(false);
            }
            else if (n == MalformedLines.MaxPrinted + 1)
            {
                await console.WriteLineAsync(path is null ? "(more dead letters are not printed; pass --dead-letter FILE to keep them all)" : $"(more dead letters are not printed; all are in {path})").ConfigureAwait(false);
            }

            if (strict)
            {
                throw new MalformedInputException(message);
            }

            lines[i] = new DeadLetterLine(letter.Source, letter.Position, letter.Reason, letter.Record);
        }

        if (_file is not null)
        {
            await _file.WriteAsync(lines, cancellationToken).ConfigureAwait(false);
        }
    }

    public override ValueTask<byte[]> PrepareCommitAsync(long checkpointId, CancellationToken cancellationToken) =>
        _file?.PrepareCommitAsync(checkpointId, cancellationToken) ?? ValueTask.FromResult(Array.Empty<byte>());

    public override ValueTask CommitAsync(long checkpointId, CancellationToken cancellationToken) =>
        _file?.CommitAsync(checkpointId, cancellationToken) ?? ValueTask.CompletedTask;

    public override ValueTask CompleteAsync(CancellationToken cancellationToken) =>
        _file?.CompleteAsync(cancellationToken) ?? ValueTask.CompletedTask;

    public override async ValueTask DisposeAsync()
    {
        if (_file is not null)
        {
            await _file.DisposeAsync().ConfigureAwait(false);
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>One line of the dead-letter file (camelCase, as <c>run --source --dead-letter</c> writes without a job).</summary>
    internal sealed record DeadLetterLine(string Source, string Position, string Reason, string Text);
}
