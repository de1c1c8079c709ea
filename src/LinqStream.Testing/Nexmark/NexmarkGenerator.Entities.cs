namespace LinqStream.Testing.Nexmark;

/// <summary>How each entity's fields are drawn. Draw order is part of the output: change it and every seed's stream changes.</summary>
public sealed partial class NexmarkGenerator
{
    private Person NextPerson(long eventNumber, DateTime time)
    {
        var random = new EventRandom(_seedHash, eventNumber);
        return new Person
        {
            Id = NexmarkModel.FirstPersonId + NexmarkModel.LastBase0PersonId(eventNumber),
            Name = Pick(NexmarkStrings.Names, ref random),
            EmailAddress = Pick(NexmarkStrings.Emails, ref random),
            CreditCard = Pick(NexmarkStrings.CreditCards, ref random),
            City = Pick(NexmarkStrings.Cities, ref random),
            State = Pick(NexmarkStrings.States, ref random),
            DateTime = time,
            Extra = NextExtra(ref random),
        };
    }

    private Auction NextAuction(long eventNumber, DateTime time)
    {
        var random = new EventRandom(_seedHash, eventNumber);
        var lastPerson = NexmarkModel.LastBase0PersonId(eventNumber);

        // Three in four auctions (by default) come from the first person of the latest batch of 100: the hot seller.
        var seller = random.NextInt(_hotSellerRatio) > 0
            ? lastPerson / NexmarkModel.HotIdGranularity * NexmarkModel.HotIdGranularity
            : NextBase0PersonId(lastPerson, ref random);
        var category = NexmarkModel.FirstCategoryId + random.NextInt(NexmarkModel.NumCategories);
        var initialBid = NextPrice(ref random);
        var reserve = initialBid + NextPrice(ref random);
        var duration = _auctionDurationTicks + random.NextLong(_auctionDurationTicks + 1);
        return new Auction
        {
            Id = NexmarkModel.FirstAuctionId + NexmarkModel.LastBase0AuctionId(eventNumber),
            ItemName = Pick(NexmarkStrings.ItemNames, ref random),
            Description = Pick(NexmarkStrings.Descriptions, ref random),
            InitialBid = initialBid,
            Reserve = reserve,
            DateTime = time,
            Expires = time.AddTicks(duration),
            Seller = NexmarkModel.FirstPersonId + seller,
            Category = category,
            Extra = NextExtra(ref random),
        };
    }

    private Bid NextBid(long eventNumber, DateTime time)
    {
        var random = new EventRandom(_seedHash, eventNumber);
        var lastAuction = NexmarkModel.LastBase0AuctionId(eventNumber);
        var lastPerson = NexmarkModel.LastBase0PersonId(eventNumber);

        // The hot auction is the first of the latest batch of 100 auctions, so it moves on every 100 auctions.
        var auction = random.NextInt(_hotAuctionRatio) > 0
            ? lastAuction / NexmarkModel.HotIdGranularity * NexmarkModel.HotIdGranularity
            : NextBase0AuctionId(lastAuction, ref random);

        // The hot bidder is the second person of the latest batch of 100 (so it differs from the hot seller),
        // or the first while the second does not exist yet.
        var bidder = random.NextInt(_hotBidderRatio) > 0
            ? Math.Min((lastPerson / NexmarkModel.HotIdGranularity * NexmarkModel.HotIdGranularity) + 1, lastPerson)
            : NextBase0PersonId(lastPerson, ref random);
        var price = NextPrice(ref random);

        string channel, url;
        if (random.NextInt(2) > 0)
        {
            var i = random.NextInt(NexmarkStrings.HotChannels.Length);
            (channel, url) = (NexmarkStrings.HotChannels[i], NexmarkStrings.HotUrls[i]);
        }
        else
        {
            var i = random.NextInt(NexmarkStrings.ColdChannelCount);
            (channel, url) = (NexmarkStrings.ColdChannels[i], NexmarkStrings.ColdUrls[i]);
        }

        return new Bid
        {
            Auction = NexmarkModel.FirstAuctionId + auction,
            Bidder = NexmarkModel.FirstPersonId + bidder,
            Price = price,
            Channel = channel,
            Url = url,
            DateTime = time,
            Extra = NextExtra(ref random),
        };
    }

    /// <summary>A random person among the latest <see cref="NexmarkConfig.NumActivePeople"/>, so the bids per person do not thin out over time.</summary>
    private long NextBase0PersonId(long lastPerson, ref EventRandom random)
    {
        var people = lastPerson + 1;
        var active = Math.Min(people, _numActivePeople);
        return people - active + random.NextLong(active);
    }

    /// <summary>A random auction among the latest <see cref="NexmarkConfig.NumInFlightAuctions"/>.</summary>
    private long NextBase0AuctionId(long lastAuction, ref EventRandom random)
    {
        var first = Math.Max(lastAuction - _numInFlightAuctions + 1, 0);
        return first + random.NextLong(lastAuction - first + 1);
    }

    /// <summary>A price in cents, log-uniform from 100 ($1) to 10^8 ($1M).</summary>
    private static long NextPrice(ref EventRandom random) => (long)Math.Round(Math.Pow(10.0, random.NextDouble() * 6.0) * 100.0);

    private static string Pick(string[] pool, ref EventRandom random) => pool[random.NextInt(pool.Length)];

    /// <summary>Drawn last, and only when padding is on, so that <see cref="NexmarkConfig.ExtraFieldSize"/> changes no other field.</summary>
    private string NextExtra(ref EventRandom random) => _extras.Length == 1 ? _extras[0] : Pick(_extras, ref random);
}
