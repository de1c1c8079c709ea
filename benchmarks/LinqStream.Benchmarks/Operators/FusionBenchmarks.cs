using System.Reactive.Linq;
using BenchmarkDotNet.Attributes;
using LinqStream.Benchmarks.Infrastructure;

namespace LinqStream.Benchmarks.Operators;

/// <summary>
/// A Where > Select > Where > Select chain, fused into one compiled loop per batch (the default) and unfused (<c>Fuse = false</c>: one
/// operator per step), against Rx.NET (one observer per step) and a hand-written loop.
/// </summary>
[MemoryDiagnoser]
public class FusionBenchmarks : IAnswerCheck
{
    private const int Events = 10_000_000;
    private Tick[] _data = [];

    [GlobalSetup]
    public void Setup()
    {
        _data = Data.Ticks(Events, 1000);
        Check(_data);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public long RxNet()
    {
        var sink = new CountingObserver<long>();
        _data.ToObservable()
            .Where(t => t.Value % 2 == 0)
            .Select(t => (t.Value * 3) + t.Key)
            .Where(x => x % 5 != 0)
            .Select(x => x + 1)
            .Subscribe(sink);
        return sink.Count;
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public long LinqStreamFused() => Run(fuse: true);

    [Benchmark(OperationsPerInvoke = Events)]
    public long LinqStreamUnfused() => Run(fuse: false);

    [Benchmark(OperationsPerInvoke = Events)]
    public long HandWrittenLoop()
    {
        var sink = new CountingObserver<long>();
        HandWritten(_data, sink);
        return sink.Count;
    }

    public string CheckQuick() => Answers.Summary(100_000, Check(Data.Ticks(100_000, 1000)));

    public string CheckFull() => Answers.Summary(Events, Check(Data.Ticks(Events, 1000)));

    private static IQStream<long> Chain(Tick[] data, bool fuse) =>
        QStream.From(data, t => t.Time)
            .WithOptions(new QueryOptions { Fuse = fuse })
            .Where(t => t.Value % 2 == 0)
            .Select(t => (t.Value * 3) + t.Key)
            .Where(x => x % 5 != 0)
            .Select(x => x + 1);

    private static void HandWritten(Tick[] data, IObserver<long> sink)
    {
        foreach (var t in data)
        {
            if (t.Value % 2 == 0)
            {
                long x = (t.Value * 3) + t.Key;
                if (x % 5 != 0)
                {
                    sink.OnNext(x + 1);
                }
            }
        }
    }

    private static int Check(Tick[] data)
    {
        var expected = data.Where(t => t.Value % 2 == 0).Select(t => (t.Value * 3) + t.Key).Where(x => x % 5 != 0).Select(x => x + 1).ToList();
        foreach (bool fuse in new[] { true, false })
        {
            var sink = new CollectingObserver<long>();
            Chain(data, fuse).Subscribe(sink).Dispose();
            Answers.SameMultiset($"Where > Select > Where > Select, LinqStream (Fuse = {fuse})", expected, sink.ResultsOrThrow());
            if (!sink.Results.SequenceEqual(expected))
            {
                throw new AnswerMismatchException($"Where > Select > Where > Select, LinqStream (Fuse = {fuse}): results out of order.");
            }
        }

        var hand = new CollectingObserver<long>();
        HandWritten(data, hand);
        Answers.SameMultiset("Where > Select > Where > Select, hand-written loop", expected, hand.Results);
        return expected.Count;
    }

    private long Run(bool fuse)
    {
        var sink = new CountingObserver<long>();
        Chain(_data, fuse).Subscribe(sink).Dispose();
        return sink.Count;
    }
}
