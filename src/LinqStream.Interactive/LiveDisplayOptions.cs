namespace LinqStream.Interactive;

/// <summary>How <see cref="LiveQuery.DisplayLiveAsync{T}"/> shows a running query.</summary>
public sealed record LiveDisplayOptions
{
    /// <summary>Gets the default options.</summary>
    public static LiveDisplayOptions Default { get; } = new();

    /// <summary>Gets the longest time between two updates of the view while the query runs.</summary>
    /// <value>The default value is 500 ms. Must be positive; <see cref="Timeout.InfiniteTimeSpan"/> updates only on <see cref="UpdateEveryResults"/>.</value>
    public TimeSpan RefreshInterval
    {
        get;
        init
        {
            if (value <= TimeSpan.Zero && value != Timeout.InfiniteTimeSpan)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "The refresh interval must be positive, or Timeout.InfiniteTimeSpan.");
            }

            field = value;
        }
    } = TimeSpan.FromMilliseconds(500);

    /// <summary>Gets the number of new results after which the view updates, whatever the time.</summary>
    /// <value>The default value is <see langword="null"/>: updates go by <see cref="RefreshInterval"/> only. Must be at least 1.</value>
    public int? UpdateEveryResults
    {
        get;
        init
        {
            if (value is < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "Update the view after at least 1 result, or set null.");
            }

            field = value;
        }
    }

    /// <summary>Gets the number of latest results the running view shows.</summary>
    /// <value>The default value is 10. Must be at least 1.</value>
    public int LatestRows
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            field = value;
        }
    } = 10;

    /// <summary>Gets the most rows of the final table.</summary>
    /// <value>The default value is 100. Must be at least 1.</value>
    public int MaxRows
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            field = value;
        }
    } = 100;

    /// <summary>Gets the number of throughput samples the chart keeps (one per update).</summary>
    /// <value>The default value is 60. Must be at least 2.</value>
    public int ChartPoints
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 2);
            field = value;
        }
    } = 60;
}
