namespace LinqStream.Analyzers.Tests.Verifiers;

/// <summary>Wraps test statements in a compilation unit with the usings and payload types every analyzer test needs.</summary>
internal static class Source
{
    public const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Linq;
        using System.Reactive.Linq;
        using System.Threading.Tasks;
        using LinqStream;

        """;

    public const string Types = """

        public sealed record Bid(long Auction, decimal Price, DateTime Time, string Bidder);
        public sealed record Auction(long Id, DateTime Time, DateTime Expires, string Seller);

        """;

    /// <summary>Puts <paramref name="body"/> in <c>static void Run(IQStream&lt;Bid&gt; bids, IQStream&lt;Auction&gt; auctions, List&lt;Bid&gt; list, IObservable&lt;Bid&gt; rx)</c>.</summary>
    public static string Wrap(string body) =>
        Usings + """
        public static class C
        {
            public static async Task Run(IQStream<Bid> bids, IQStream<Auction> auctions, List<Bid> list, IObservable<Bid> rx)
            {

        """ + Indent(body) + """

                await Task.CompletedTask;
            }
        }

        """ + Types;

    private static string Indent(string body) =>
        string.Join("\n", body.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Select(line => line.Length == 0 ? line : "        " + line));
}
