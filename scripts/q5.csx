// q5.csx: NEXMark q5 (hot items): bids per auction in a 10-second window every 2 seconds, over the NEXMark bids that
// `linqstream produce` writes (camelCase JSON, event time in 'dateTime'). Read into a record, not as Rows: a job's
// checkpoint holds the events its reorder buffer keeps back, and a Row cannot be read back from a checkpoint (docs/cluster.md).
record Bid(long Auction, long Bidder, long Price, DateTime DateTime);

from b in InputAs<Bid>().HoppingWindow(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2))
group b by b.Auction into g
select new { Auction = g.Key, Bids = g.Count(), Start = g.Window.Start, End = g.Window.End }
