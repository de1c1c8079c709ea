using System.Linq.Expressions;
using LinqStream.Physical.Kernels;
using LinqStream.Physical.Pipeline;

namespace LinqStream.Tests.Physical.Kernels;

/// <summary>
/// The compiled loops over a batch's present events (issue #19: a filter-bit word at a time, its bits in a register), against a
/// plain per-event reading of the same bits: which events run, which bits are set, what is written, and nothing past the count.
/// </summary>
public sealed class BatchLoopKernelTests
{
    public static TheoryData<int> Counts => [0, 1, 5, 63, 64, 65, 127, 128, 200, 2048, 4096];

    private static ulong[] RandomBits(Random random, int count, int absentPercent)
    {
        // One word more than the events need, with bits set past the count too: they must come out unchanged.
        var bits = new ulong[(count + 63) / 64 + 1];
        for (int i = 0; i < bits.Length * 64; i++)
        {
            if (random.Next(100) < absentPercent)
            {
                bits[i >> 6] |= 1UL << i;
            }
        }

        return bits;
    }

    private static bool IsSet(ulong[] bits, int i) => (bits[i >> 6] & (1UL << i)) != 0;

    [Theory]
    [MemberData(nameof(Counts))]
    public void PipelineKernel_FilterProjectFilter_MarksAndWritesExactlyWhatAPerEventLoopDoes(int count)
    {
        var random = new Random(count + 11);
        var steps = new List<PipelineKernelStep>
        {
            new(true, (Expression<Func<int, bool>>)(x => x % 3 != 0)),
            new(false, (Expression<Func<int, long>>)(x => x * 10L)),
            new(true, (Expression<Func<long, bool>>)(v => v > -2_000)),
        };
        var kernel = PipelineKernel.Compile<int, long>(steps, KernelCompiler.Uncached);
        foreach (int absentPercent in new[] { 0, 10, 50, 97, 100 })
        {
            var input = Enumerable.Range(0, count + 70).Select(_ => random.Next(-1_000, 1_000)).ToArray();
            var absent = RandomBits(random, count, absentPercent);
            var output = Enumerable.Repeat(-1L, count + 70).ToArray();

            var expectedAbsent = (ulong[])absent.Clone();
            var expectedOutput = (long[])output.Clone();
            for (int i = 0; i < count; i++)
            {
                if (IsSet(absent, i))
                {
                    continue;
                }

                long v = input[i] * 10L;
                if (input[i] % 3 == 0 || v <= -2_000)
                {
                    expectedAbsent[i >> 6] |= 1UL << i;
                }
                else
                {
                    expectedOutput[i] = v;
                }
            }

            kernel(input, absent, output, count);
            Assert.Equal(expectedAbsent, absent);
            Assert.Equal(expectedOutput, output);
        }
    }

    [Theory]
    [MemberData(nameof(Counts))]
    public void PipelineKernel_ProjectionOnly_LeavesTheBitsAndWritesThePresentEvents(int count)
    {
        var random = new Random(count + 12);
        var kernel = PipelineKernel.Compile<int, string>([new(false, (Expression<Func<int, string>>)(x => "v" + x))], KernelCompiler.Uncached);
        var input = Enumerable.Range(0, count + 3).ToArray();
        var absent = RandomBits(random, count, 40);
        var before = (ulong[])absent.Clone();
        var output = new string[count + 3];

        kernel(input, absent, output, count);

        Assert.Equal(before, absent);
        Assert.Equal(Enumerable.Range(0, count + 3).Select(i => i < count && !IsSet(before, i) ? "v" + i : null!), output);
    }

    [Theory]
    [MemberData(nameof(Counts))]
    public void ColumnKernel_WithFilterBits_WritesOnlyThePresentEvents(int count)
    {
        var random = new Random(count + 13);
        var kernel = ColumnKernel.Compile<int, long>((Expression<Func<int, long>>)(x => x * 3L + 1), KernelCompiler.Uncached);
        var input = Enumerable.Range(0, count + 3).Select(_ => random.Next()).ToArray();
        foreach (int absentPercent in new[] { 0, 50, 100 })
        {
            var absent = RandomBits(random, count, absentPercent);
            var output = Enumerable.Repeat(-7L, count + 3).ToArray();
            kernel(input, absent, output, count);
            Assert.Equal(Enumerable.Range(0, count + 3).Select(i => i < count && !IsSet(absent, i) ? input[i] * 3L + 1 : -7L), output);

            var all = new long[count + 3];
            kernel(input, null, all, count); // no filter bits: every event up to count
            Assert.Equal(Enumerable.Range(0, count + 3).Select(i => i < count ? input[i] * 3L + 1 : 0L), all);
        }
    }

    [Fact]
    public void PipelineKernel_ThroughTheCache_SameShapeSameAnswer()
    {
        // The new loop's labels, locals and bit-scan call go through the kernel cache's shape walk like every other kernel.
        var cache = new KernelCompiler(new CompiledKernelCache(8));
        List<PipelineKernelStep> Chain(int modulus) => [new(true, (Expression<Func<int, bool>>)(x => x % modulus == 0))];
        var first = PipelineKernel.Compile<int, int>(Chain(2), cache);
        var second = PipelineKernel.Compile<int, int>(Chain(5), cache);
        Assert.Equal(1, cache.Cache!.Count);

        var input = Enumerable.Range(0, 100).ToArray();
        var a = new ulong[2];
        var b = new ulong[2];
        first(input, a, null, 100);
        second(input, b, null, 100);
        Assert.Equal(Enumerable.Range(0, 100).Where(i => i % 2 == 0), Enumerable.Range(0, 100).Where(i => !IsSet(a, i)));
        Assert.Equal(Enumerable.Range(0, 100).Where(i => i % 5 == 0), Enumerable.Range(0, 100).Where(i => !IsSet(b, i)));
    }
}
