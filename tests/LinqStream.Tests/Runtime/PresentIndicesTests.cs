using LinqStream.Runtime;

namespace LinqStream.Tests.Runtime;

public sealed class PresentIndicesTests
{
    private static List<int> Walk(ulong[] absent, int count)
    {
        var seen = new List<int>();
        foreach (int i in new PresentIndices(absent, count))
        {
            seen.Add(i);
        }

        return seen;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(130)]
    [InlineData(2048)]
    public void Walk_RandomBits_GivesThePresentIndicesInOrder_AndNothingPastCount(int count)
    {
        var random = new Random(count + 7);
        foreach (int density in new[] { 0, 1, 2, 30, 100 })
        {
            // Bits set past count too (a batch's vector is longer than its events): they must not matter.
            var absent = new ulong[(count + 63) / 64 + 1];
            for (int i = 0; i < absent.Length * 64; i++)
            {
                if (random.Next(100) >= density)
                {
                    absent[i >> 6] |= 1UL << i;
                }
            }

            var expected = Enumerable.Range(0, count).Where(i => (absent[i >> 6] & (1UL << i)) == 0).ToList();
            Assert.Equal(expected, Walk(absent, count));
            Assert.Equal(Enumerable.Range(0, count), Walk(new ulong[absent.Length], count)); // nothing absent
        }
    }

    [Fact]
    public void Walk_WholeWordsAbsentBetweenPresentEvents_SkipsThem()
    {
        var absent = new ulong[4];
        Array.Fill(absent, ulong.MaxValue);
        absent[0] &= ~(1UL << 63);
        absent[3] &= ~1UL;
        Assert.Equal([63, 192], Walk(absent, 256));
        Assert.Equal([63], Walk(absent, 192));
    }
}
