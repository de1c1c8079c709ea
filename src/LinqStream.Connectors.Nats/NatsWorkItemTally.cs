using System.Globalization;

namespace LinqStream.Connectors.Nats;

/// <summary>
/// Where a NATS source's thread-pool work items went (a diagnostic for the connector benchmark, off unless
/// <see cref="NatsJetStreamSource{T}.WorkItems"/> is set): the pool's completed work items while the source was in each part of
/// its work, and whether the runtime's socket engine watched its own reader's sockets. The pool's count is the whole process's,
/// so what other threads ran meanwhile (a job's sink, its query) counts too; for the source read alone it is the source's.
/// </summary>
internal sealed class NatsWorkItemTally
{
    private readonly long[] _parts = new long[4];

    /// <summary>The parts of a source's work.</summary>
    public enum Part
    {
        /// <summary>NATS.Net's calls: the connection, the stream checks, making and deleting the consumer, closing.</summary>
        Management,

        /// <summary>Connecting the own reader (its socket and hand-shake).</summary>
        Connect,

        /// <summary>Fetching: the pull requests, the receives (the connect included) and the decoding, and a failed read's clean-up.</summary>
        Fetch,

        /// <summary>The waits of an idle or reconnecting source (its poll interval, the reconnect backoff).</summary>
        Waits,
    }

    /// <summary>Gets how many own readers were dropped (reconnected, or the source closed).</summary>
    public int Readers { get; private set; }

    /// <summary>Gets how many of <see cref="Readers"/> had a socket the runtime's socket engine watched (<c>epoll</c>) when dropped.</summary>
    public int ReadersWatched { get; private set; }

    /// <summary>Gets the work items counted for <paramref name="part"/>.</summary>
    public long this[Part part] => _parts[(int)part];

    /// <summary>The pool's completed work items now when <paramref name="tally"/> counts, else 0 (nothing read).</summary>
    public static long Mark(NatsWorkItemTally? tally) => tally is null ? 0 : ThreadPool.CompletedWorkItemCount;

    /// <summary>Adds the work items completed since <paramref name="mark"/> to <paramref name="part"/>, and moves the mark to now.</summary>
    public void Add(Part part, ref long mark)
    {
        long now = ThreadPool.CompletedWorkItemCount;
        _parts[(int)part] += now - mark;
        mark = now;
    }

    /// <summary>Notes a dropped own reader and whether its socket was watched.</summary>
    public void Dropped(bool? watched)
    {
        Readers++;
        if (watched == true)
        {
            ReadersWatched++;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"work items while managing {this[Part.Management]}, connecting the own reader {this[Part.Connect]}, fetching {this[Part.Fetch]}, waiting {this[Part.Waits]}; own readers whose socket the runtime's epoll watched: {ReadersWatched} of {Readers}");
}
