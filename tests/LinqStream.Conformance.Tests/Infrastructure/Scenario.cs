using LinqStream.Testing;
using Xunit.Abstractions;

namespace LinqStream.Conformance.Tests.Infrastructure;

/// <summary>One cell of the execution matrix: an <see cref="ExecutionMode"/> and whether the input arrives out of order.</summary>
/// <remarks>
/// Out of order means the data set is generated with <c>NexmarkConfig.MaxDisorder = Disorder</c> and every source is read with
/// <c>IngressPolicy.Reorder(Disorder)</c>; the oracle uses the (disordered) event times, so the answer must not change.
/// </remarks>
public sealed class Scenario : IXunitSerializable
{
    /// <summary>The disorder bound of the out-of-order data sets.</summary>
    public static readonly TimeSpan Disorder = TimeSpan.FromMilliseconds(500);

    public Scenario()
    {
    }

    public Scenario(ExecutionMode mode, bool disordered)
    {
        BatchSize = mode.BatchSize;
        Fuse = mode.Fuse;
        Parallelism = mode.Parallelism;
        Disordered = disordered;
    }

    public int BatchSize { get; private set; } = ExecutionMode.LargeBatch;

    public bool Fuse { get; private set; } = true;

    public int Parallelism { get; private set; } = 1;

    public bool Disordered { get; private set; }

    public ExecutionMode Mode => new(BatchSize, Fuse, Parallelism);

    public QueryOptions Options => Mode.Options;

    public TimeSpan MaxDisorder => Disordered ? Disorder : TimeSpan.Zero;

    public void Deserialize(IXunitSerializationInfo info)
    {
        BatchSize = info.GetValue<int>(nameof(BatchSize));
        Fuse = info.GetValue<bool>(nameof(Fuse));
        Parallelism = info.GetValue<int>(nameof(Parallelism));
        Disordered = info.GetValue<bool>(nameof(Disordered));
    }

    public void Serialize(IXunitSerializationInfo info)
    {
        info.AddValue(nameof(BatchSize), BatchSize);
        info.AddValue(nameof(Fuse), Fuse);
        info.AddValue(nameof(Parallelism), Parallelism);
        info.AddValue(nameof(Disordered), Disordered);
    }

    public override string ToString() => $"{Mode}, {(Disordered ? $"disordered {Disorder.TotalMilliseconds} ms" : "in order")}";
}

/// <summary>The execution matrix as theory data: every <see cref="ExecutionMode"/>, in order and out of order.</summary>
public static class Matrix
{
    public static TheoryData<Scenario> All
    {
        get
        {
            var data = new TheoryData<Scenario>();
            foreach (var disordered in new[] { false, true })
            {
                foreach (var mode in ExecutionMode.All)
                {
                    data.Add(new Scenario(mode, disordered));
                }
            }

            return data;
        }
    }
}
