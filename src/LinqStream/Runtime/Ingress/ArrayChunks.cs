using System.Collections;

namespace LinqStream.Runtime.Ingress;

/// <summary>
/// One of P interleaved parts of an array in start order: chunks k, k + P, k + 2P, ... of a cut of the array into chunks
/// (docs/parallelism.md, "Replayed arrays"). Read a batch at a time by <see cref="EnumerableSource{T}"/>.
/// </summary>
internal sealed class ArrayChunks<T> : IEnumerable<T>
{
    private readonly T[] _array;
    private readonly int[] _chunkStarts; // the array index of each of this part's chunks
    private readonly int[] _chunkEnds;
    private readonly int[] _positions; // the part's position at the start of each chunk

    private ArrayChunks(T[] array, int[] chunkStarts, int[] chunkEnds)
    {
        _array = array;
        _chunkStarts = chunkStarts;
        _chunkEnds = chunkEnds;
        _positions = new int[chunkStarts.Length];
        int position = 0;
        for (int c = 0; c < chunkStarts.Length; c++)
        {
            _positions[c] = position;
            position += chunkEnds[c] - chunkStarts[c];
        }

        Count = position;
    }

    /// <summary>Gets the number of events in this part.</summary>
    public int Count { get; }

    /// <summary>Gets what the array declares about its partitioning by key (<c>QStream.FromKeyPartitioned</c> over arrays), or null.</summary>
    public KeyPartitioning? Partitioning { get; private init; }

    /// <summary>A whole array as one part, declared to be one partition of a source partitioned by key (<paramref name="partitioning"/>).</summary>
    public static ArrayChunks<T> KeyPartitioned(T[] array, KeyPartitioning partitioning) => new(array, [0], [array.Length]) { Partitioning = partitioning };

    /// <summary>Deals the chunks that start at <paramref name="bounds"/> (ascending, the first 0) out to <paramref name="parts"/> parts in turn.</summary>
    public static ArrayChunks<T>[] Deal(T[] array, IReadOnlyList<int> bounds, int parts)
    {
        var result = new ArrayChunks<T>[parts];
        for (int k = 0; k < parts; k++)
        {
            var starts = new List<int>();
            var ends = new List<int>();
            for (int c = k; c < bounds.Count; c += parts)
            {
                starts.Add(bounds[c]);
                ends.Add(c + 1 < bounds.Count ? bounds[c + 1] : array.Length);
            }

            result[k] = new ArrayChunks<T>(array, [.. starts], [.. ends]);
        }

        return result;
    }

    /// <summary>Copies this part's events from <paramref name="position"/> on into <paramref name="buffer"/>, as many as fit; returns how many.</summary>
    public int CopyTo(int position, T[] buffer)
    {
        int copied = 0;
        int chunk = Array.BinarySearch(_positions, position);
        chunk = chunk >= 0 ? chunk : ~chunk - 1;
        while (copied < buffer.Length && chunk < _chunkStarts.Length)
        {
            int from = _chunkStarts[chunk] + (position - _positions[chunk]);
            int n = Math.Min(buffer.Length - copied, _chunkEnds[chunk] - from);
            Array.Copy(_array, from, buffer, copied, n);
            copied += n;
            position += n;
            chunk++;
        }

        return copied;
    }

    public IEnumerator<T> GetEnumerator()
    {
        for (int c = 0; c < _chunkStarts.Length; c++)
        {
            for (int i = _chunkStarts[c]; i < _chunkEnds[c]; i++)
            {
                yield return _array[i];
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
