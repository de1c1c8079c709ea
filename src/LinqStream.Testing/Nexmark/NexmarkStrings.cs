using System.Globalization;
using System.Text;

namespace LinqStream.Testing.Nexmark;

/// <summary>
/// Pre-built string pools. Events pick from them by index, so generating an event allocates no string and the
/// throughput of the generator does not depend on string building.
/// </summary>
/// <remarks>The pools come from a fixed seed and are the same for every <see cref="NexmarkConfig.Seed"/>; the seed only changes which entry each event picks.</remarks>
internal static class NexmarkStrings
{
    /// <summary>Entries per random-text pool (emails, credit cards, item names, descriptions).</summary>
    public const int PoolSize = 1024;

    /// <summary>Channels outside the hot four, as in Beam's generator.</summary>
    public const int ColdChannelCount = 10_000;

    private const ulong PoolSeed = 0x4E45584D41524B21UL; // "NEXMARK!"

    public static readonly string[] States = ["AZ", "CA", "ID", "OR", "WA", "WY"];

    public static readonly string[] Cities =
        ["Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"];

    public static readonly string[] Names = BuildNames(
        ["Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"],
        ["Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"]);

    public static readonly string[] Emails = BuildPool(1, static (ref EventRandom r) => Text(ref r, 7, 'a') + "@" + Text(ref r, 5, 'a') + ".com");

    public static readonly string[] CreditCards = BuildPool(2, static (ref EventRandom r) =>
        string.Create(CultureInfo.InvariantCulture, $"{r.NextInt(10_000):D4} {r.NextInt(10_000):D4} {r.NextInt(10_000):D4} {r.NextInt(10_000):D4}"));

    public static readonly string[] ItemNames = BuildPool(3, static (ref EventRandom r) => Text(ref r, 20, ' '));

    public static readonly string[] Descriptions = BuildPool(4, static (ref EventRandom r) => Text(ref r, 100, ' '));

    public static readonly string[] HotChannels = ["Google", "Facebook", "Baidu", "Apple"];

    public static readonly string[] HotUrls = BuildPool(5, HotChannels.Length, static (ref EventRandom r) => BaseUrl(ref r));

    public static readonly string[] ColdChannels = BuildColdChannels();

    public static readonly string[] ColdUrls = BuildPool(6, ColdChannelCount, static (ref EventRandom r) => BaseUrl(ref r));

    private delegate string Build(ref EventRandom random);

    /// <summary>Returns <paramref name="count"/> random strings of exactly <paramref name="length"/> characters, for the <c>Extra</c> field.</summary>
    public static string[] BuildExtras(ulong seedHash, int length, int count)
    {
        var extras = new string[count];
        for (var i = 0; i < extras.Length; i++)
        {
            var random = new EventRandom(seedHash, i);
            extras[i] = string.Create(length, random, static (span, r) =>
            {
                for (var j = 0; j < span.Length; j++)
                {
                    span[j] = (char)('a' + r.NextInt(26));
                }
            });
        }

        return extras;
    }

    private static string[] BuildNames(string[] first, string[] last)
    {
        var names = new string[first.Length * last.Length];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = first[i / last.Length] + " " + last[i % last.Length];
        }

        return names;
    }

    private static string[] BuildColdChannels()
    {
        var channels = new string[ColdChannelCount];
        for (var i = 0; i < channels.Length; i++)
        {
            channels[i] = "channel-" + i.ToString(CultureInfo.InvariantCulture);
        }

        return channels;
    }

    private static string[] BuildPool(ulong stream, Build build) => BuildPool(stream, PoolSize, build);

    private static string[] BuildPool(ulong stream, int count, Build build)
    {
        var seedHash = EventRandom.Mix(PoolSeed ^ stream);
        var pool = new string[count];
        for (var i = 0; i < pool.Length; i++)
        {
            var random = new EventRandom(seedHash, i);
            pool[i] = build(ref random);
        }

        return pool;
    }

    private static string BaseUrl(ref EventRandom random)
        => "https://www.nexmark.com/" + Text(ref random, 5, '_') + "/" + Text(ref random, 5, '_') + "/"
            + Text(ref random, 5, '_') + "/item.htm?query=1";

    /// <summary>
    /// Random lower-case text of 3 to <paramref name="maxLength"/> − 1 characters, with an occasional
    /// <paramref name="special"/> character (a letter gives plain words, as emails need), trimmed.
    /// </summary>
    private static string Text(ref EventRandom random, int maxLength, char special)
    {
        const int MinLength = 3;
        var length = MinLength + random.NextInt(maxLength - MinLength);
        var builder = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            builder.Append(random.NextInt(13) == 0 ? special : (char)('a' + random.NextInt(26)));
        }

        return builder.ToString().Trim();
    }
}
