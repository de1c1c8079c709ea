using System.Linq.Expressions;
using LinqStream.Physical.Ingress;
using LinqStream.Physical.Join.Anti;
using LinqStream.Physical.Join.Inner;
using LinqStream.Physical.Join.Left;
using LinqStream.Physical.Pipeline;
using LinqStream.Plan;
using LinqStream.Runtime;
using LinqStream.Temporal;
using LinqStream.Tests.Infrastructure;

namespace LinqStream.Tests.Physical.Join;

/// <summary>An input event of the join tests: ids start at 1, so a result with id 0 on the right means "no match".</summary>
public readonly record struct Item(int Id, int Key, long Start, long End);

/// <summary>A join result: the ids of the left and right events (0 when there is no right event).</summary>
public readonly record struct Pair(int L, int R);

/// <summary>Shape of a random input: how many events, over how many keys, spread over how many ticks, how long they live.</summary>
public sealed record Shape(int Count, int Keys, long Spread, int MaxDuration, double PointRatio = 0.5);

/// <summary>Random inputs, sources, and the naive oracles (all pairs, with LINQ to objects) the join operators are checked against.</summary>
internal static class JoinTestData
{
    public static readonly Expression<Func<Item, int>> Key = x => x.Key;

    /// <summary>Keys below zero stand for null.</summary>
    public static readonly Expression<Func<Item, int?>> NullableKey = x => x.Key < 0 ? null : x.Key;

    public static readonly Expression<Func<Item, Item, Pair>> Result = (l, r) => new Pair(l.Id, r.Id);

    public static Item[] Generate(Random random, Shape shape, long origin, int firstId)
    {
        var items = new Item[shape.Count];
        for (int i = 0; i < items.Length; i++)
        {
            long start = origin + random.NextInt64(shape.Spread);
            long duration = random.NextDouble() < shape.PointRatio ? 1 : 1 + random.Next(shape.MaxDuration);
            items[i] = new Item(0, random.Next(shape.Keys), start, start + duration);
        }

        Array.Sort(items, (a, b) => a.Start.CompareTo(b.Start));
        for (int i = 0; i < items.Length; i++)
        {
            items[i] = items[i] with { Id = firstId + i };
        }

        return items;
    }

    public static IngressStream<Item> Source(Item[] items) => Harness.Source(items, x => x.Start, end: x => x.End);

    public static PhysicalStream<Pair> Plan(JoinKind kind, Item[] left, Item[] right) => kind switch
    {
        JoinKind.Inner => new JoinStream<Item, Item, int, Pair>(Source(left), Source(right), Key, Key, Result),
        JoinKind.LeftOuter => new LeftJoinStream<Item, Item, int, Pair>(Source(left), Source(right), Key, Key, Result),
        // The anti-join emits its left events; a Select maps them to (left.Id, 0) so all kinds share the oracle's shape.
        _ => new PipelineStream<Item, Pair>(
            new AntiJoinStream<Item, Item, int>(Source(left), Source(right), Key, Key),
            [new PipelineStep(false, (Expression<Func<Item, Pair>>)(x => new Pair(x.Id, 0)))]),
    };

    /// <summary>Runs <paramref name="kind"/> over the inputs with the harness's checks and returns the results sorted.</summary>
    public static List<(long Start, long End, int L, int R)> Run(JoinKind kind, Item[] left, Item[] right, int batchSize) =>
        Sorted(Harness.Run(Plan(kind, left, right), Harness.Options(batchSize)).Events);

    public static List<(long Start, long End, int L, int R)> Sorted(IEnumerable<StreamEvent<Pair>> events) =>
        [.. events.Select(e => (e.Start, e.End, e.Payload.L, e.Payload.R)).OrderBy(x => x)];

    /// <summary>All pairs with equal (non-null) keys and overlapping lifetimes, plus the unmatched left events the kind asks for.</summary>
    public static List<(long Start, long End, int L, int R)> Oracle(JoinKind kind, Item[] left, Item[] right, Func<Item, int?>? key = null)
    {
        key ??= x => x.Key;
        var byKey = right.Where(r => key(r) is not null).ToLookup(r => key(r)!.Value);
        var results = new List<(long, long, int, int)>();
        foreach (var l in left)
        {
            var k = key(l);
            var matches = k is null
                ? []
                : byKey[k.Value].Where(r => Math.Max(l.Start, r.Start) < Math.Min(l.End, r.End)).ToList();
            if (kind == JoinKind.Inner || kind == JoinKind.LeftOuter)
            {
                results.AddRange(matches.Select(r => (Math.Max(l.Start, r.Start), Math.Min(l.End, r.End), l.Id, r.Id)));
            }

            if (matches.Count == 0 && kind != JoinKind.Inner)
            {
                results.Add((l.Start, l.End, l.Id, 0));
            }
        }

        results.Sort();
        return results;
    }
}

/// <summary>The random-input matrix every join kind runs: batch sizes 1, 7, 4096 × key counts × time origins (zero, huge, negative).</summary>
public static class JoinMatrix
{
    public static readonly long[] Origins = [0, long.MaxValue / 4, -1_000_000_000_000_000];

    public static TheoryData<int, string, long> Cases()
    {
        var data = new TheoryData<int, string, long>();
        foreach (int batchSize in new[] { 1, 7, 4096 })
        {
            foreach (string shape in new[] { "OneKey", "HundredKeys", "TenThousandKeys" })
            {
                foreach (long origin in Origins)
                {
                    data.Add(batchSize, shape, origin);
                }
            }
        }

        return data;
    }

    public static Shape ShapeNamed(string name) => name switch
    {
        "OneKey" => new Shape(Count: 2000, Keys: 1, Spread: 20_000, MaxDuration: 50),
        "HundredKeys" => new Shape(Count: 5000, Keys: 100, Spread: 5_000, MaxDuration: 200),
        _ => new Shape(Count: 20_000, Keys: 10_000, Spread: 10_000, MaxDuration: 5_000),
    };
}
