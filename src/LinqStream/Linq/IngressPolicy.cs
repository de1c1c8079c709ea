namespace LinqStream;

/// <summary>What an ingress does with an event whose time is earlier than events it already let through.</summary>
/// <remarks>
/// Inside the engine a stream is ordered by start time, so disorder is handled once, here. Events that are dropped or
/// adjusted are counted in <see cref="IngressStatistics"/>, never silently lost.
/// </remarks>
public sealed class IngressPolicy : IEquatable<IngressPolicy>
{
    private IngressPolicy(IngressPolicyKind kind, long maxDelayTicks, IngressPolicyKind late, IngressStatistics? statistics)
    {
        Kind = kind;
        MaxDelayTicks = maxDelayTicks;
        LateAction = late;
        Statistics = statistics;
    }

    /// <summary>Gets the policy that fails the query at the first out-of-order event (the default).</summary>
    /// <remarks>The error names the event's position, how late it was, and the policy to choose instead.</remarks>
    public static IngressPolicy Throw { get; } = new(IngressPolicyKind.Throw, 0, IngressPolicyKind.Throw, null);

    /// <summary>Gets the policy that drops out-of-order events and counts them.</summary>
    public static IngressPolicy Drop { get; } = new(IngressPolicyKind.Drop, 0, IngressPolicyKind.Drop, null);

    /// <summary>Gets the policy that moves an out-of-order event to the watermark (the latest time seen) and counts it.</summary>
    public static IngressPolicy Adjust { get; } = new(IngressPolicyKind.Adjust, 0, IngressPolicyKind.Adjust, null);

    /// <summary>Gets the kind of policy.</summary>
    public IngressPolicyKind Kind { get; }

    /// <summary>Gets, for <see cref="IngressPolicyKind.Reorder"/>, how long (in ticks) events are held back to be sorted.</summary>
    public long MaxDelayTicks { get; }

    /// <summary>Gets what happens, under <see cref="IngressPolicyKind.Reorder"/>, to an event later than the delay allows.</summary>
    public IngressPolicyKind LateAction { get; }

    /// <summary>Gets the counters this policy reports to, or <see langword="null"/>.</summary>
    public IngressStatistics? Statistics { get; }

    /// <summary>Holds events back up to <paramref name="maxDelay"/> and lets them through in time order.</summary>
    /// <param name="maxDelay">How far behind the latest event time an event may arrive and still be sorted in.</param>
    /// <param name="late">What to do with an event later than that: <see cref="IngressPolicyKind.Drop"/> (the default, as Flink does),
    /// <see cref="IngressPolicyKind.Adjust"/> or <see cref="IngressPolicyKind.Throw"/>.</param>
    /// <returns>The policy.</returns>
    /// <remarks>The watermark is the latest event time minus <paramref name="maxDelay"/>; state grows with the events inside that delay.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxDelay"/> is negative, or <paramref name="late"/> is <see cref="IngressPolicyKind.Reorder"/>.</exception>
    public static IngressPolicy Reorder(TimeSpan maxDelay, IngressPolicyKind late = IngressPolicyKind.Drop)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDelay, TimeSpan.Zero);
        if (late == IngressPolicyKind.Reorder)
        {
            throw new ArgumentOutOfRangeException(nameof(late), late, "Choose Drop, Adjust or Throw for events later than the reorder delay.");
        }

        return new(IngressPolicyKind.Reorder, maxDelay.Ticks, late, null);
    }

    /// <summary>Returns the same policy reporting what it counts to <paramref name="statistics"/>.</summary>
    /// <param name="statistics">The counters to update.</param>
    /// <returns>A new policy.</returns>
    public IngressPolicy WithStatistics(IngressStatistics statistics)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        return new(Kind, MaxDelayTicks, LateAction, statistics);
    }

    /// <summary>Tells whether <paramref name="other"/> is the same policy: the same kind, delay and late action, reporting to the same counters.</summary>
    /// <param name="other">The policy to compare with.</param>
    /// <returns><see langword="true"/> when the two are interchangeable.</returns>
    /// <remarks>Two queries built with <c>Reorder(...)</c> called twice with the same arguments share one compiled plan.</remarks>
    public bool Equals(IngressPolicy? other) =>
        other is not null && Kind == other.Kind && MaxDelayTicks == other.MaxDelayTicks && LateAction == other.LateAction && ReferenceEquals(Statistics, other.Statistics);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as IngressPolicy);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Kind, MaxDelayTicks, LateAction, Statistics is null ? 0 : System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(Statistics));

    /// <inheritdoc/>
    public override string ToString() => Kind == IngressPolicyKind.Reorder
        ? $"Reorder({TimeSpan.FromTicks(MaxDelayTicks)}, late: {LateAction})"
        : Kind.ToString();
}

/// <summary>The kinds of <see cref="IngressPolicy"/>.</summary>
public enum IngressPolicyKind
{
    /// <summary>Fail the query.</summary>
    Throw,

    /// <summary>Drop the event and count it.</summary>
    Drop,

    /// <summary>Move the event to the watermark and count it.</summary>
    Adjust,

    /// <summary>Sort events that arrive within a delay.</summary>
    Reorder,
}

/// <summary>What an ingress counted: events read, late events, and what was done with them.</summary>
/// <remarks>Written by the query, readable from any thread.</remarks>
public sealed class IngressStatistics
{
    private long _events;
    private long _late;
    private long _dropped;
    private long _adjusted;

    /// <summary>Gets the number of events read from the source.</summary>
    public long Events => Volatile.Read(ref _events);

    /// <summary>Gets the number of events that arrived after the watermark had passed their time.</summary>
    public long Late => Volatile.Read(ref _late);

    /// <summary>Gets the number of late events dropped.</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>Gets the number of late events moved to the watermark.</summary>
    public long Adjusted => Volatile.Read(ref _adjusted);

    internal void AddEvents(long count) => Interlocked.Add(ref _events, count);

    internal void AddLate(IngressPolicyKind action)
    {
        Interlocked.Increment(ref _late);
        if (action == IngressPolicyKind.Drop)
        {
            Interlocked.Increment(ref _dropped);
        }
        else if (action == IngressPolicyKind.Adjust)
        {
            Interlocked.Increment(ref _adjusted);
        }
    }
}
