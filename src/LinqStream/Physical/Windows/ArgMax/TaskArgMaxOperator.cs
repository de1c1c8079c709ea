using LinqStream.Runtime;

namespace LinqStream.Physical.Windows.ArgMax;

/// <summary>
/// The local step of a split <see cref="WindowArgMaxOperator{TIn, TRow, TKey, TResult}"/> (docs/parallelism.md, "q5: the
/// window's maximum on every task"): on one task, after its share of the keyed aggregate, keeps per window (the input events
/// that share a start) only the events at the task's own maximum, and passes them on unchanged, in their input order.
/// </summary>
/// <remarks>
/// <para>
/// The global step is parallelism 1's <c>WindowArgMax</c> after the order-restoring merge. It sees, per window, every task's
/// events at that task's maximum: the overall maximum is one of them, and every event at the overall maximum is at its own
/// task's maximum too, so the global step keeps exactly the events parallelism 1 keeps, in the same order (each task's output
/// is a subsequence of what it gave before, and the merge orders by start, then task). So the results, their order and the
/// global step's state at a checkpoint are parallelism 1's; this step holds no state across a barrier (it ships what it holds
/// first, see <see cref="FlushAtBarrier"/>), so the checkpoint has no section for it and restores at any parallelism.
/// </para>
/// <para>
/// Per event: one compare against the running maximum (the value column computed per batch by the global step's compiled
/// kernel) and a copy when it reaches the maximum; nothing is allocated once the tied list has grown to the largest tie seen.
/// Events with an empty lifetime are dropped (the global step skips them too). A window aggregate right in front of this step
/// sees it as an <see cref="IWindowMaximumInput{T}"/> (as parallelism 1's aggregate sees the global step) and sends, per window,
/// only its results at their maximum, in the order it would have emitted them: what this step passes on is the same, and the rest is
/// never sorted or copied.
/// </para>
/// </remarks>
/// <typeparam name="T">The aggregate's results (the argmax's input).</typeparam>
internal sealed class TaskArgMaxOperator<T> : WindowMaximumOperator<T, T>, Parallel.TwoPhase.IFlushAtBarrier
{
    private readonly Action<T[], ulong[]?, long[], int> _value;

    /// <param name="downstream">The task's output (its forward exchange to the merge).</param>
    /// <param name="context">The task's context.</param>
    /// <param name="value">The compared value of each event, widened to <c>long</c> (the global step's kernel).</param>
    /// <param name="valueText">The value's source text (errors name it).</param>
    public TaskArgMaxOperator(IStreamObserver<T> downstream, QueryContext context, Action<T[], ulong[]?, long[], int> value, string valueText)
        : base(downstream, context)
    {
        _value = value;
        ValueText = valueText;
    }

    /// <summary>Gets the number of events this step passed on (tests: what crossed to the merge).</summary>
    public long Passed { get; private set; }

    /// <summary>
    /// Before the task passes a checkpoint barrier on: sends the events held so far. The window stays open with its maximum, so
    /// later events of it below that maximum are still dropped; the global step, which sees every event sent, keeps the right
    /// ones either way. (The aggregate emits a window's results and then a watermark past their start in one call, so in
    /// practice nothing is held between two of the task's steps.)
    /// </summary>
    public void FlushAtBarrier()
    {
        if (Faulted || Window.Count == 0)
        {
            return;
        }

        Close();
        Flush();
    }

    protected override string ValueText { get; }

    protected override void ComputeValues(T[] payload, ulong[]? absent, long[] values, int count) => _value(payload, absent, values, count);

    /// <summary>Sends the held events (in their input order, with their own lifetimes) and forgets them.</summary>
    protected override bool Close()
    {
        var window = Window;
        for (int j = 0; j < window.Count; j++)
        {
            Emit(window.Start, window.End(j), window.Payload(j));
        }

        Passed += window.Count;
        window.Clear();
        return true;
    }
}
