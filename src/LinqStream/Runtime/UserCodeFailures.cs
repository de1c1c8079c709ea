namespace LinqStream.Runtime;

/// <summary>
/// The one per-event error policy (<see cref="QueryOptions.OnError"/>) of an operator that runs the user's code: every
/// operator with a user lambda (filters and projections, SelectMany, window keys and aggregate inputs, join keys and result
/// selectors, ClipLifetime keys) decides a failing event here, so the policy and the dead letter look the same everywhere.
/// </summary>
/// <remarks>
/// Operators run a compiled kernel over a whole batch. When it throws (the rare path), <see cref="IsolateFailingEvents{T}"/>
/// re-runs the user's code one event at a time: under <see cref="ErrorPolicy.SkipAndDeadLetter"/> each failing event is
/// marked absent and written to the dead letters, naming the operator, the expression, the event's time and its payload, so
/// the answer does not depend on the batch size; under <see cref="ErrorPolicy.Fail"/> (or when <see cref="QueryOptions.SkipWhen"/>
/// refuses the exception) the first failing event becomes the error that stops the query. Nothing here runs per event on
/// the normal path.
/// </remarks>
internal sealed class UserCodeFailures
{
    private readonly QueryContext _context;

    /// <param name="context">The query's context (options and dead-letter sink).</param>
    /// <param name="operatorName">The operator as the user wrote it: <c>Select</c>, <c>Join</c>, <c>ClipLifetime</c>, ...</param>
    /// <param name="expression">The user's expression as error messages quote it.</param>
    /// <param name="site">Where the query was written (<c>" (written at File.cs:12)"</c>), or empty.</param>
    public UserCodeFailures(QueryContext context, string operatorName, string expression, string site = "")
    {
        _context = context;
        OperatorName = operatorName;
        Expression = expression;
        Site = site;
    }

    public string OperatorName { get; }

    public string Expression { get; }

    public string Site { get; }

    /// <summary>Decides one event whose user code threw <paramref name="error"/>.</summary>
    /// <returns><see langword="null"/> when the event was skipped into the dead letters and the query goes on; otherwise the error to stop the query with.</returns>
    public QueryExecutionException? Skip<TPayload>(Exception error, long start, TPayload payload)
    {
        if (error is QueryExecutionException stop)
        {
            return stop;
        }

        if (_context.Options.FailsOn(error))
        {
            return Internal.Error.OperatorFailedOnEvent(OperatorName, Expression, error, start, payload, Site);
        }

        try
        {
            _context.DeadLetters.Write(DeadLetter.Create(
                OperatorName + Site, Temporal.Ticks.Format(start),
                $"'{Expression}' threw {error.GetType().Name}: {error.Message}", Internal.Strings.Describe(payload)));
            return null;
        }
        catch (Exception deadLetterFailure)
        {
            return Internal.Error.OperatorFailedOnEvent(OperatorName, Expression, deadLetterFailure, start, payload, Site);
        }
    }

    /// <summary>
    /// Decides a failure that belongs to a window's result (an empty group's <c>Average</c>, an overflowing sum) rather than to
    /// one event: the (window, key) is dead-lettered with <paramref name="message"/>, or the query stops with it.
    /// </summary>
    /// <returns><see langword="null"/> when the window was skipped; otherwise the error to stop the query with.</returns>
    public QueryExecutionException? SkipWindow(Exception error, string operatorName, long windowStart, object? key, string message)
    {
        if (_context.Options.FailsOn(error))
        {
            return new QueryExecutionException(Internal.Strings.WindowResultFailedStop(message), error) { Operator = operatorName, Expression = Expression };
        }

        try
        {
            _context.DeadLetters.Write(DeadLetter.Create(operatorName, Temporal.Ticks.Format(windowStart), message, Internal.Strings.Describe(key)));
            return null;
        }
        catch (Exception deadLetterFailure)
        {
            return Internal.Error.OperatorFailed(operatorName, Expression, deadLetterFailure);
        }
    }

    /// <summary>
    /// Re-runs the user's code for each live event of <paramref name="batch"/> (<paramref name="runOne"/> gets the event's
    /// index and writes its own result); events whose code throws are marked absent and skipped as <see cref="Skip{TPayload}"/> decides.
    /// </summary>
    /// <returns><see langword="null"/> when the batch may go on without the failing events; otherwise the error to stop the query with.</returns>
    public QueryExecutionException? IsolateFailingEvents<T>(EventBatch<T> batch, Action<int> runOne)
    {
        int count = batch.Count;
        for (int i = 0; i < count; i++)
        {
            if (batch.IsAbsent(i))
            {
                continue;
            }

            try
            {
                runOne(i);
            }
            catch (Exception ex)
            {
                if (Skip(ex, batch.Start[i], batch.Payload[i]) is { } stop)
                {
                    return stop;
                }

                batch.SetAbsent(i);
            }
        }

        return null;
    }

    /// <summary>
    /// Re-runs a column kernel <c>(payload, absent, output, count)</c> (a key selector) one event at a time after it threw
    /// for the whole batch, writing each event's value to <paramref name="output"/>; failing events are marked absent.
    /// </summary>
    /// <returns><see langword="null"/> when the batch may go on; otherwise the error to stop the query with.</returns>
    public QueryExecutionException? IsolateColumn<T, TValue>(Action<T[], ulong[]?, TValue[], int> kernel, EventBatch<T> batch, TValue[] output)
    {
        var input = new T[1];
        var value = new TValue[1];
        return IsolateFailingEvents(batch, i =>
        {
            input[0] = batch.Payload[i];
            kernel(input, null, value, 1);
            output[i] = value[0];
        });
    }

    /// <summary>
    /// Runs a column kernel (a key selector) over <paramref name="batch"/> into <paramref name="output"/>, grown to the batch's
    /// capacity when too short; when it throws, decides the failing events by <see cref="IsolateColumn"/> (the rare path).
    /// </summary>
    /// <returns><see langword="null"/> when the batch may go on (skipped events are marked absent); otherwise the error to stop the query with.</returns>
    public QueryExecutionException? RunColumn<T, TValue>(Action<T[], ulong[]?, TValue[], int> kernel, EventBatch<T> batch, ref TValue[] output)
    {
        if (output.Length < batch.Count)
        {
            output = new TValue[batch.Capacity];
        }

        try
        {
            kernel(batch.Payload, batch.Absent, output, batch.Count);
            return null;
        }
        catch (Exception ex) when (ex is not QueryExecutionException)
        {
            return IsolateColumn(kernel, batch, output);
        }
    }
}
