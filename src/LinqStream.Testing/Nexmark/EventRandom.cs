namespace LinqStream.Testing.Nexmark;

/// <summary>
/// A SplitMix64 stream keyed by a seed hash and an event number, so an event's draws depend on nothing but the
/// seed and its own number, however generation is chunked, ordered or parallelised.
/// </summary>
internal struct EventRandom
{
    private const ulong Gamma = 0x9E3779B97F4A7C15UL;
    private ulong _state;

    /// <summary>Starts the stream for one event: the state is the <paramref name="eventNumber"/>-th output of a SplitMix64 seeded with <paramref name="seedHash"/>.</summary>
    public EventRandom(ulong seedHash, long eventNumber) => _state = Mix(unchecked(seedHash + ((ulong)eventNumber + 1) * Gamma));

    /// <summary>The SplitMix64 finaliser: a bijective 64-bit mix.</summary>
    public static ulong Mix(ulong z)
    {
        unchecked
        {
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    public ulong NextUInt64()
    {
        _state = unchecked(_state + Gamma);
        return Mix(_state);
    }

    /// <summary>Uniform in [0, <paramref name="bound"/>) for a positive bound (multiply-high, no division).</summary>
    public int NextInt(int bound) => (int)(((NextUInt64() >> 32) * (uint)bound) >> 32);

    /// <summary>Uniform in [0, <paramref name="bound"/>) for a positive bound.</summary>
    public long NextLong(long bound) => (long)Math.BigMul(NextUInt64(), (ulong)bound, out _);

    /// <summary>Uniform in [0, 1) with 53 bits of precision.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
}
