using LinqStream.Orleans.Tasks;
using LinqStream.Runtime.Checkpoints;

namespace LinqStream.Orleans.Tests.Tasks;

public sealed class SliceCodecTests
{
    [Fact]
    public void Write_TwoTasksSlices_ReadBackGiveTheSameSectionAsTheOriginals()
    {
        // What two keyed tasks write at a barrier, sent to the coordinator as bytes: the section the coordinator writes from the
        // slices read back is the section the tasks' own slices give (a job on one machine writes that one).
        var random = new Random(3);
        var first = Slice(0, 50, random);
        var second = Slice(50, 128, random);
        var expected = Section([Slice(0, 50, new Random(3)), Slice(50, 128, Skip(new Random(3), 0, 50))]);

        var sent = new[] { SliceCodec.Write(first), SliceCodec.Write(second) };
        var actual = Section([SliceCodec.Read(sent[0], "task-0"), SliceCodec.Read(sent[1], "task-1")]);

        Assert.Equal(expected, actual);
        Assert.Equal(50, SliceCodec.Read(sent[0], "task-0").End);
    }

    [Fact]
    public void Read_TruncatedSlice_FailsNamingTheSender()
    {
        var bytes = SliceCodec.Write(Slice(0, 8, new Random(1)));

        var error = Assert.Throws<InvalidDataException>(() => SliceCodec.Read(bytes[..^3], "task-4 with barrier 7"));

        Assert.Contains("task-4 with barrier 7", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NotASlice_FailsNamingTheSender()
    {
        var error = Assert.Throws<InvalidDataException>(() => SliceCodec.Read([1, 2, 3, 4, 5, 6, 7, 8], "task-2 with its completion"));

        Assert.Contains("task-2 with its completion", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_SliceWithUnionState_ReadsBackBothAndTheSameSection()
    {
        // A keyed task fed by several source tasks sends what its union holds after its key groups.
        var union = new byte[300];
        new Random(9).NextBytes(union);
        var bytes = SliceCodec.Write(Slice(0, 64, new Random(4)), union);

        var slice = SliceCodec.Read(bytes, "task-1 with barrier 3", out var read);

        Assert.Equal(union, read);
        Assert.Equal(Section([Slice(0, 64, new Random(4)), Slice(64, 128, new Random(5))]), Section([slice, Slice(64, 128, new Random(5))]));
        SliceCodec.Read(SliceCodec.Write(Slice(0, 64, new Random(4))), "task-1", out var none);
        Assert.Null(none);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    public void Read_UnionStateCutShort_FailsNamingTheSender(int cut)
    {
        var bytes = SliceCodec.Write(Slice(0, 16, new Random(2)), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

        var error = Assert.Throws<InvalidDataException>(() => SliceCodec.Read(bytes[..^cut], "task-5 with its completion", out _));

        Assert.Contains("task-5 with its completion", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A slice with 0 to 3 records per key group (some groups empty), each record a key at the ends of the range and a count.</summary>
    private static KeyGroupSlice Slice(int first, int end, Random random) =>
        KeyGroupSlice.Build(
            first,
            end,
            header => header.Write(long.MinValue + first),
            writerOf =>
            {
                for (int group = first; group < end; group++)
                {
                    int records = random.Next(4);
                    for (int r = 0; r < records; r++)
                    {
                        var writer = writerOf(group);
                        writer.Write(random.Next(2) == 0 ? long.MaxValue : random.NextInt64());
                        writer.Write(r);
                    }
                }
            });

    /// <summary>Draws what <see cref="Slice"/> draws for [first, end), so a second generator continues where the first left off.</summary>
    private static Random Skip(Random random, int first, int end)
    {
        Slice(first, end, random);
        return random;
    }

    private static byte[] Section(IReadOnlyList<KeyGroupSlice> slices)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer))
        {
            KeyGroupedSection.Write(writer, 128, slices);
        }

        return buffer.ToArray();
    }
}
