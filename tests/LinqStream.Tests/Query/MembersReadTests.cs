using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using LinqStream.Benchmarks.Scenarios.Nexmark;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Tests.Query;

/// <summary>
/// Issue #19 (conn10): the members of a source's events that a query reads, derived from its plan (<c>MembersRead</c>), and a JSON
/// source whose serializer LinqStream makes decoding only those (<see cref="EventSerializer{T}.ForQuery"/>). Each query shape runs over
/// the same random JSON bids twice, once decoding only what the plan reads and once decoding every member, and gives the same answer;
/// dead letters keep naming the source, the record's position and the reason.
/// </summary>
public sealed class MembersReadTests
{
    private const string SourceName = "memory://bids";
    private static readonly TimeSpan Disorder = TimeSpan.FromSeconds(3);
    private static readonly DateTime Epoch = new(2026, 12, 5, 12, 0, 0, DateTimeKind.Utc);
    private static readonly JsonSerializerOptions s_results = new() { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };

    /// <summary>The query shapes, by name: NEXMark q0–q8 over one stream of bids (q3 and q8 join two), and what each reads of a bid (null: every member).</summary>
    public static TheoryData<string, string[]?> Shapes() => new()
    {
        { "q0", null },
        { "q1", ["Auction", "Bidder", "DateTime", "Price"] },
        { "q2", ["Auction", "DateTime", "Price"] },
        { "q3", ["Auction", "Bidder", "Channel", "DateTime", "Price"] },
        { "q4", ["Auction", "DateTime", "Price"] },
        { "q5", ["Auction", "DateTime"] },
        { "q6", ["Bidder", "Channel", "DateTime"] },
        { "q7", ["Auction", "Bidder", "DateTime", "Price"] },
        { "q8", ["Bidder", "DateTime", "Price"] }, // the URL filter is on the other source only
        { "container", ["Auction", "DateTime", "Price"] },
        { "topWholeBids", null },
        { "userMethod", null },
        { "recordEquality", null },
        { "keyedByRecord", null },
        { "distinctRecords", null },
        { "toString", null },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task Query_OverJsonBids_ReadsWhatThePlanReadsAndAnswersAsTheFullDecoder(string shape, string[]? expected)
    {
        var random = new Random(shape.Sum(c => c) * 31 + shape.Length); // a seed per shape, the same in every run
        var records = RandomRecords(random, 3_000);
        var projected = new JsonRecordSource(records, honoursMembersRead: true);
        var full = new JsonRecordSource(records, honoursMembersRead: false);

        var fromProjected = await Run(shape, projected, new JsonRecordSource(records, honoursMembersRead: true));
        var fromFull = await Run(shape, full, new JsonRecordSource(records, honoursMembersRead: false));

        Assert.Equal(expected, projected.MembersRead?.ToArray());
        Assert.NotEmpty(fromFull);
        Assert.Equal(fromFull, fromProjected);
        if (expected is null)
        {
            Assert.DoesNotContain("skips", projected.DecoderDescription, StringComparison.Ordinal);
        }
        else
        {
            // The run really decoded less: the projection's decoder, and bids without the members not read.
            Assert.Contains("skips the others", projected.DecoderDescription, StringComparison.Ordinal);
            Assert.All(projected.Decoded, bid => Assert.True(expected.Contains("Url") || bid.Url is null, "a member not read was decoded"));
        }

        string explained = Query(shape, new JsonRecordSource(records, true), new JsonRecordSource(records, true)).Explain();
        Assert.Contains(expected is null ? $"MembersRead: {SourceName} reads every member of Bid: " : $"MembersRead: {SourceName} reads {string.Join(", ", expected)} of Bid", explained, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedRecords_DeadLettered_WithSourcePositionAndReason_AValueOfTheWrongTypeInAMemberNotReadIsNotValidated()
    {
        var random = new Random(77);
        var records = RandomRecords(random, 2_000);
        var corrected = records.ToArray();
        records[100] = Encoding.UTF8.GetBytes("{\"auction\":1,\"bidder\":"); // not JSON: refused by both
        records[200] = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(records[200]).Replace("\"auction\":", "\"auction\":\"x", StringComparison.Ordinal).Replace(",\"bidder\"", "\",\"bidder\"", StringComparison.Ordinal)); // a read member of the wrong type: refused by both
        string url = Encoding.UTF8.GetString(records[300]);
        int at = url.IndexOf("\"url\":\"", StringComparison.Ordinal);
        int end = url.IndexOf('"', at + 7);
        records[300] = Encoding.UTF8.GetBytes(string.Concat(url.AsSpan(0, at), "\"url\":12", url.AsSpan(end + 1))); // a member q5 does not read, of the wrong type
        corrected[100] = corrected[200] = []; // the reference: the two records no decoder accepts left out, the third as it was
        corrected = [.. corrected.Where(r => r.Length > 0)];

        var projectedLetters = new Letters();
        var fullLetters = new Letters();
        var projected = await Run("q5", new JsonRecordSource(records, true), null, projectedLetters);
        var full = await Run("q5", new JsonRecordSource(records, false), null, fullLetters);
        var reference = await Run("q5", new JsonRecordSource(corrected, false), null, new Letters());

        Assert.Equal(reference, projected); // the record with a URL of the wrong type counts: its URL is not read
        Assert.Equal(["record 100", "record 200"], projectedLetters.Written.Select(l => l.Position));
        Assert.Equal(["record 100", "record 200", "record 300"], fullLetters.Written.Select(l => l.Position));
        Assert.All(projectedLetters.Written.Concat(fullLetters.Written), letter =>
        {
            Assert.Equal(SourceName, letter.Source);
            Assert.False(string.IsNullOrWhiteSpace(letter.Reason));
        });
        Assert.Equal(projectedLetters.Written.Select(l => l.Record), fullLetters.Written.Take(2).Select(l => l.Record));
        Assert.NotEmpty(full);
    }

    [Fact]
    public void ForQuery_JsonReadingNamedByHand_IsKept_AndOtherSerializersAreThemselves()
    {
        var context = new SourceContext(new Letters(), TimeProvider.System) { MembersRead = ["Auction", "DateTime"] };
        var named = EventSerializer<Bid>.JsonReading(NexmarkJsonContext.Default.Bid, ["Auction", "Price", "DateTime"]);
        Assert.Same(named, named.ForQuery(context));

        var json = EventSerializer<Bid>.Json(NexmarkJsonContext.Default.Bid);
        Assert.Same(json, json.ForQuery(new SourceContext(new Letters(), TimeProvider.System)));
        var projection = json.ForQuery(context);
        Assert.NotSame(json, projection);
        Assert.Same(projection, projection.ForQuery(context)); // a projection is used as it is
        Assert.Same(projection, json.ForQuery(context)); // one per set of members: a query run again reuses it
        Assert.Equal("JSON: LinqStream's record decoder reads auction, dateTime of the 7 properties of 'Bid' and skips the others.", projection.Description);
        var every = new SourceContext(new Letters(), TimeProvider.System) { MembersRead = ["Auction", "Bidder", "Price", "Channel", "Url", "DateTime", "Extra"] };
        Assert.Same(json, json.ForQuery(every));
    }

    private static async Task<List<string>> Run(string shape, JsonRecordSource source, JsonRecordSource? second, Letters? letters = null)
    {
        var results = await Query(shape, source, second ?? new JsonRecordSource([], source.HonoursMembersRead), letters).ToListAsync();
        return [.. results.Select(r => JsonSerializer.Serialize(r, s_results)).Order(StringComparer.Ordinal)];
    }

    private static IQStream<object> Query(string shape, JsonRecordSource source, JsonRecordSource second, Letters? letters = null)
    {
        var options = new QueryOptions { BatchSize = 64, DeadLetters = letters };
        var bids = QStream.From(source, b => b.DateTime, IngressPolicy.Reorder(Disorder), SourceName).WithOptions(options);
        var others = QStream.From(second, b => b.DateTime, IngressPolicy.Reorder(Disorder), SourceName + "/2").WithOptions(options);
        var window = TimeSpan.FromSeconds(2);
        return shape switch
        {
            "q0" => bids.Select(b => (object)b),
            "q1" => bids.Select(b => (object)new { b.Auction, b.Bidder, Price = b.Price * 908 / 1000, b.DateTime }),
            "q2" => bids.Where(b => b.Auction % 7 == 0 || b.Auction == long.MaxValue).Select(b => (object)new { b.Auction, b.Price }),
            "q3" => from l in bids.Where(b => b.Channel == "Google").TumblingWindow(window)
                    join r in others.TumblingWindow(window) on l.Bidder equals r.Bidder
                    select (object)new { l.Auction, r.Price },
            "q4" => from b in bids.TumblingWindow(window)
                    group b by b.Auction into g
                    select (object)new { g.Key, Average = g.Average(b => (double)b.Price), Max = g.Max(b => b.Price), g.Window.StartTicks },
            "q5" => Q5HotItems.Query(bids).Select(h => (object)h),
            "q6" => from b in bids.HoppingWindow(TimeSpan.FromSeconds(4), window)
                    group b by b.Bidder into g
                    select (object)new { g.Key, Channels = g.Select(b => b.Channel).Distinct().Count(), Bids = g.Count() },
            "q7" => Q7HighestBid.Query(bids).Select(h => (object)h),
            "q8" => from l in bids.TumblingWindow(window)
                    join r in others.Where(b => b.Url.Length > 40).TumblingWindow(window) on l.Bidder equals r.Bidder
                    select (object)new { l.Bidder, l.Price, r.DateTime },
            "container" => bids.Select(b => new { b.Auction, Whole = b }).Where(x => x.Whole.Price > 500).Select(x => (object)x.Auction),
            "topWholeBids" => from b in bids.TumblingWindow(window)
                              group b by b.Auction into g
                              select (object)new { g.Key, Top = g.OrderByDescending(b => b.Price).Take(2).ToList() },
            "userMethod" => bids.Where(b => IsCheap(b)).Select(b => (object)b.Auction),
            "recordEquality" => bids.Where(b => b != Cheapest).Select(b => (object)b.Auction),
            "keyedByRecord" => from b in bids.TumblingWindow(window)
                               group b by b into g
                               select (object)g.Count(),
            "distinctRecords" => from b in bids.TumblingWindow(window)
                                 group b by b.Auction into g
                                 select (object)new { g.Key, Distinct = g.Distinct().Count() },
            "toString" => bids.Select(b => (object)b.ToString().Length),
            _ => throw new ArgumentOutOfRangeException(nameof(shape)),
        };
    }

    private static Bid Cheapest { get; } = new() { Price = 1 };

    private static bool IsCheap(Bid bid) => bid.Price < 300;

    /// <summary>Random bids as JSON: out of order within <see cref="Disorder"/>, ties on time and keys, huge keys, gaps that leave windows empty.</summary>
    private static byte[][] RandomRecords(Random random, int count)
    {
        string[] channels = ["Google", "Facebook", "Baidu", "Apple", "channel-" + new string('x', 30)];
        var records = new byte[count][];
        long ticks = 0;
        for (int i = 0; i < count; i++)
        {
            ticks += random.Next(10) switch
            {
                0 => 0,                                    // a tie with the event before
                1 => TimeSpan.FromSeconds(9).Ticks,        // a gap: empty windows
                _ => random.Next(1, 40) * TimeSpan.TicksPerMillisecond,
            };
            long time = Math.Max(0, ticks - random.NextInt64(Disorder.Ticks / 2)); // out of order, within the reorder bound
            var bid = new Bid
            {
                Auction = random.Next(8) switch { 0 => long.MaxValue, 1 => long.MinValue, _ => random.Next(1, 40) },
                Bidder = random.Next(8) == 0 ? long.MaxValue : random.Next(1, 30),
                Price = random.Next(1, 1000),
                Channel = channels[random.Next(channels.Length)],
                Url = "https://www.nexmark.com/item.htm?query=" + random.Next(10_000) + (random.Next(2) == 0 ? "&channel=" + random.Next(100) : ""),
                DateTime = Epoch.AddTicks(time),
                Extra = random.Next(3) == 0 ? "" : new string((char)('a' + random.Next(26)), random.Next(1, 20)),
            };
            records[i] = JsonSerializer.SerializeToUtf8Bytes(bid, NexmarkJsonContext.Default.Bid);
        }

        return records;
    }

    /// <summary>
    /// JSON records in memory as a replayable source that decodes with LinqStream's record serializer: the projection the query asks for
    /// (<see cref="EventSerializer{T}.ForQuery"/>), or every member when told to ignore it.
    /// </summary>
    private sealed class JsonRecordSource(byte[][] records, bool honoursMembersRead) : EventSource<Bid>
    {
        private static readonly EventSerializer<Bid> s_json = EventSerializer<Bid>.Json(NexmarkJsonContext.Default.Bid);
        private EventSerializer<Bid> _decoder = s_json;
        private SourceContext? _context;
        private int _next;

        public bool HonoursMembersRead => honoursMembersRead;

        /// <summary>Gets what the last run's context said the query reads (sorted), or null for every member.</summary>
        public IReadOnlyList<string>? MembersRead { get; private set; }

        public string DecoderDescription => _decoder.Description;

        public List<Bid> Decoded { get; } = [];

        public override string Name => SourceName;

        public override bool CanReplay => true;

        public override ValueTask OpenAsync(SourceContext context, byte[]? position, CancellationToken cancellationToken)
        {
            _context = context;
            MembersRead = context.MembersRead is { } read ? [.. read.Order(StringComparer.Ordinal)] : null;
            _decoder = honoursMembersRead ? s_json.ForQuery(context) : s_json;
            _next = position is null ? 0 : BinaryPrimitives.ReadInt32LittleEndian(position);
            return ValueTask.CompletedTask;
        }

        public override ValueTask<SourceRead> ReadAsync(Memory<Bid> buffer, CancellationToken cancellationToken)
        {
            int count = 0;
            var span = buffer.Span;
            while (count < span.Length && _next < records.Length)
            {
                int index = _next++;
                try
                {
                    var bid = _decoder.Deserialize(records[index]);
                    Decoded.Add(bid);
                    span[count++] = bid;
                }
                catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
                {
                    _context!.DeadLetters.Write(DeadLetter.Create(Name, "record " + index, ex.Message, Encoding.UTF8.GetString(records[index])));
                }
            }

            return ValueTask.FromResult(new SourceRead(count, _next == records.Length));
        }

        public override byte[] GetPosition()
        {
            var position = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(position, _next);
            return position;
        }
    }

    private sealed class Letters : IDeadLetterSink
    {
        private readonly Lock _gate = new();

        public List<DeadLetter> Written { get; } = [];

        public void Write(DeadLetter letter)
        {
            lock (_gate)
            {
                Written.Add(letter);
            }
        }
    }
}
