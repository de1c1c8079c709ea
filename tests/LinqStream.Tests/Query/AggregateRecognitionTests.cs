using System.Linq.Expressions;
using LinqStream.Physical.Windows;
using LinqStream.Plan;
using LinqStream.Query.Translation;
using LinqStream.Testing.Nexmark;

namespace LinqStream.Tests.Query;

/// <summary>
/// Aggregate recognition, a stage of translation (Query/Translation/AggregateRecognizer.cs): a window's result selector →
/// the aggregates it reads (kind, filter, value, options) and the result shape, and each refusal with the user's expression and the fix.
/// </summary>
public sealed class AggregateRecognitionTests
{
    private static readonly Bid[] NoBids = [];

    private static (WindowAggregates Aggregates, List<(string Operator, string Reason)> Failures) Recognise<TResult>(
        Expression<Func<IWindowGroup<long, Bid>, TResult>> selector, bool strict = false)
    {
        var failures = new List<(string Operator, string Reason)>();
        return (AggregateRecognizer.Recognize(selector, typeof(Bid), typeof(long), strict, failures), failures);
    }

    private static AggregateCall Single<TResult>(Expression<Func<IWindowGroup<long, Bid>, TResult>> selector)
    {
        var (aggregates, failures) = Recognise(selector, strict: true);
        Assert.Empty(failures);
        Assert.Null(aggregates.BufferReason);
        return Assert.Single(aggregates.Calls);
    }

    [Fact]
    public void Count_OfTheGroup_IsOneCountWithNoInputAndTheResultIsItsValue()
    {
        var call = Single(g => g.Count());

        Assert.Equal((AggregateKind.Count, "Count()", null, null, typeof(int)), (call.Kind, call.Description, call.Filter, call.Value, call.Placeholder.Type));
        var (aggregates, _) = Recognise(g => g.Count());
        Assert.Equal(call.Description, Assert.Single(aggregates.Calls).Description);
        Assert.Equal(["key", "windowStart", "windowEnd"], aggregates.Result.Parameters.Select(p => p.Name));
        Assert.IsAssignableFrom<ParameterExpression>(aggregates.Result.Body);
        Assert.Equal(typeof(long), aggregates.Result.Parameters[0].Type);
    }

    [Fact]
    public void Count_AfterWhereWithAPredicate_IsOneCountWhoseFilterIsBothConditions()
    {
        var call = Single(g => g.Where(b => b.Price > 5).LongCount(b => b.Bidder == 1));

        Assert.Equal(AggregateKind.Count, call.Kind);
        Assert.Equal("b => ((b.Price > 5) AndAlso (b.Bidder == 1))", call.Filter!.ToString());
        Assert.Null(call.Value);
        Assert.Equal(typeof(long), call.Placeholder.Type);
    }

    [Fact]
    public void Sum_OverASelect_HasTheSelectedValueAsInput()
    {
        var call = Single(g => g.Select(b => b.Price * 2).Sum());

        Assert.Equal((AggregateKind.Sum, "b => (b.Price * 2)"), (call.Kind, call.Value!.ToString()));
        Assert.Null(call.Filter);
        Assert.False(call.SkipsNulls);
    }

    [Fact]
    public void Average_OfANullableValue_SkipsNullsThroughItsFilterAndReadsTheValue()
    {
        var call = Single(g => g.Average(b => b.Price > 10 ? b.Price : (long?)null));

        Assert.Equal(AggregateKind.Average, call.Kind);
        Assert.True(call.SkipsNulls);
        Assert.Equal(typeof(long), call.Value!.ReturnType);
        Assert.Contains("!= null", call.Filter!.ToString(), StringComparison.Ordinal);
        Assert.Equal(typeof(double?), call.Placeholder.Type);
        Assert.StartsWith("Average(", call.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Max_OfAString_IsRecognised_MinAndMaxTakeAnyComparableValue()
    {
        var call = Single(g => g.Select(b => b.Channel).Max());

        Assert.Equal((AggregateKind.Max, "b => b.Channel", typeof(string)), (call.Kind, call.Value!.ToString(), call.Placeholder.Type));
    }

    [Fact]
    public void AnyAndAll_AreCountsOfTheMatchingOrFailingEvents_ReadAsBool()
    {
        var any = Single(g => g.Any(b => b.Price > 100));
        var all = Single(g => g.All(b => b.Price > 100));

        Assert.Equal((AggregateKind.Any, "b => (b.Price > 100)", typeof(bool)), (any.Kind, any.Filter!.ToString(), any.Placeholder.Type));
        Assert.Equal((AggregateKind.All, "b => Not((b.Price > 100))", typeof(bool)), (all.Kind, all.Filter!.ToString(), all.Placeholder.Type));
    }

    [Fact]
    public void DistinctCount_WithAPredicate_FiltersTheDistinctValues()
    {
        var call = Single(g => g.Select(b => b.Bidder).Distinct().Count(x => x > 3));

        Assert.Equal((AggregateKind.DistinctCount, "b => b.Bidder", "b => (b.Bidder > 3)"), (call.Kind, call.Value!.ToString(), call.Filter!.ToString()));
    }

    [Fact]
    public void TopK_WithSeveralKeysAndAProjection_IsOneTupleKeyWithEachDirection()
    {
        var call = Single(g => g.Where(b => b.Price > 0).OrderByDescending(b => b.Price).ThenBy(b => b.Bidder).Select(b => b.Auction).Take(3).ToList());

        Assert.Equal((AggregateKind.TopK, 3), (call.Kind, call.K));
        Assert.Equal([true, false], call.KeyDirections!);
        Assert.Equal(typeof(ValueTuple<long, long>), call.Value!.ReturnType);
        Assert.Equal("b => b.Auction", call.Projection!.ToString());
        Assert.Equal("b => (b.Price > 0)", call.Filter!.ToString());
        Assert.StartsWith("Top3(", call.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void TopK_WithOneKey_KeepsItsDirectionAndNoComparer()
    {
        var call = Single(g => g.OrderByDescending(b => b.Price).Take(2));

        Assert.Equal((AggregateKind.TopK, 2, true, "Top2(desc b => b.Price)"), (call.Kind, call.K, call.Descending, call.Description));
        Assert.Null(call.KeyDirections);
        Assert.Null(call.Projection);
    }

    [Fact]
    public void MaxByAndMinBy_AreTopOneInTheirDirection()
    {
        var max = Single(g => g.MaxBy(b => b.Price));
        var min = Single(g => g.MinBy(b => b.Channel));

        Assert.Equal((AggregateKind.MaxBy, 1, true, typeof(Bid)), (max.Kind, max.K, max.Descending, max.Placeholder.Type));
        Assert.Null(max.Filter); // a value-type key is never null
        Assert.Equal((AggregateKind.MinBy, 1, false), (min.Kind, min.K, min.Descending));
        Assert.Contains("!= null", min.Filter!.ToString(), StringComparison.Ordinal); // events whose key is null are skipped, as LINQ
    }

    [Fact]
    public void Fold_KeepsSeedFunctionAndResultSelector()
    {
        var call = Single(g => g.Select(b => b.Price).Aggregate(1L, (acc, p) => acc ^ p, acc => acc * 2));

        Assert.Equal(AggregateKind.Fold, call.Kind);
        Assert.Equal("1", call.Seed!.ToString());
        Assert.Equal("(acc, p) => (acc ^ p)", call.Func!.ToString());
        Assert.Equal("acc => (acc * 2)", call.ResultSelector!.ToString());
        Assert.Equal("b => b.Price", call.Value!.ToString());
    }

    [Fact]
    public void UserAggregate_IsEvaluatedOnceWithItsTypes()
    {
        var call = Single(g => g.Select(b => b.Price).Aggregate(new PlanStageTests.Spread()));

        Assert.Equal(AggregateKind.User, call.Kind);
        Assert.IsType<PlanStageTests.Spread>(call.Instance);
        Assert.Equal([typeof(long), typeof((long, long)), typeof(long)], call.InstanceTypes!);
    }

    [Fact]
    public void KeyAndWindow_BecomeTheResultShapesParameters_AndEachAggregateItsPlaceholder()
    {
        var (aggregates, failures) = Recognise(g => new { g.Key, N = g.Count(), Top = g.Max(b => b.Price), g.Window.Start });

        Assert.Empty(failures);
        Assert.Equal([AggregateKind.Count, AggregateKind.Max], aggregates.Calls.Select(c => c.Kind));
        string shape = aggregates.Result.ToString();
        Assert.Contains("Key = key", shape, StringComparison.Ordinal);
        Assert.Contains("N = " + aggregates.Calls[0].Placeholder.Name, shape, StringComparison.Ordinal);
        Assert.Contains("Top = " + aggregates.Calls[1].Placeholder.Name, shape, StringComparison.Ordinal);
        Assert.Contains("windowStart", shape, StringComparison.Ordinal);
        Assert.DoesNotContain("g.", shape, StringComparison.Ordinal);
    }

    [Fact]
    public void GroupUsedAsAWhole_IsOneBufferAndSaysWhy_OutsideStrictMode()
    {
        var (aggregates, failures) = Recognise(g => g.Skip(1).Count() + g.Select(b => b.Price).ToList().Count);

        Assert.Empty(failures);
        Assert.Equal([AggregateKind.Buffer], aggregates.Calls.Select(c => c.Kind)); // one buffer serves every use
        Assert.Contains("g.Skip(1)", aggregates.BufferReason!, StringComparison.Ordinal);
        Assert.Contains("incremental", aggregates.BufferReason!, StringComparison.Ordinal);
    }

    [Fact]
    public void AggregateWhoseLambdaUsesTheGroup_BuffersTheGroupAndStillRecognisesTheInnerAggregate()
    {
        var (aggregates, _) = Recognise(g => g.Count(b => b.Price == g.Max(x => x.Price)));

        Assert.Equal([AggregateKind.Buffer, AggregateKind.Max], aggregates.Calls.Select(c => c.Kind));
        Assert.NotNull(aggregates.BufferReason);
    }

    [Fact]
    public void Buffer_InStrictMode_IsRefusedWithTheExpressionAndTheFix()
    {
        var (_, failures) = Recognise(g => g.Skip(1).Count(), strict: true);

        var (op, reason) = Assert.Single(failures);
        Assert.Equal("Select", op);
        Assert.Contains("g.Skip(1)", reason, StringComparison.Ordinal);
        Assert.Contains("LSQ0007", reason, StringComparison.Ordinal);
        Assert.Contains("Count, Sum, Min, Max", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void TopK_WithFiveSortKeys_IsRefusedByTranslation()
    {
        var (_, failures) = Recognise(g => g.OrderBy(b => b.Price).ThenBy(b => b.Bidder).ThenBy(b => b.Auction).ThenBy(b => b.Channel).ThenBy(b => b.Url).Take(1).Count());

        Assert.Contains(failures, f => f.Operator == "ThenBy" && f.Reason.Contains("four sort keys", StringComparison.Ordinal));
    }

    [Fact]
    public void Translation_StrictBufferedQuery_IsRefusedByTheTranslatorQuotingTheQuery()
    {
        var query = QStream.From(NoBids, b => b.DateTime, name: "bids").WithOptions(new QueryOptions { Strict = true })
            .TumblingWindow(TimeSpan.FromSeconds(1)).GroupBy(b => b.Auction).Select(g => g.Skip(1).Count());

        var error = Assert.Throws<QueryTranslationException>(() => new QueryTranslator().Translate(query.Expression));

        Assert.Equal("Select", error.Operator);
        Assert.Contains("GroupBy", error.Message, StringComparison.Ordinal); // the query itself is quoted
        Assert.Contains("no incremental form", Assert.Single(error.Reasons), StringComparison.Ordinal);
    }

    [Fact]
    public void Translation_LetComposedSelectors_AreRecognisedOnceOnTheFinalSelector()
    {
        var query =
            from b in QStream.From(NoBids, b => b.DateTime, name: "bids").TumblingWindow(TimeSpan.FromSeconds(1))
            group b by b.Auction into g
            let n = g.Count()
            select new { g.Key, n, Max = g.Max(b => b.Price) };

        var plan = new QueryTranslator().Translate(query.Expression);

        var aggregate = Assert.IsType<AggregateNode>(plan);
        Assert.Equal([AggregateKind.Count, AggregateKind.Max], aggregate.Aggregates!.Calls.Select(c => c.Kind));
        Assert.Null(aggregate.Aggregates.BufferReason);
    }

    [Fact]
    public void Translation_GroupStreamNeverAggregated_IsMaterializedWholeAsABuffer()
    {
        var query = QStream.From(NoBids, b => b.DateTime, name: "bids").TumblingWindow(TimeSpan.FromSeconds(1)).GroupBy(b => b.Auction);

        var plan = new QueryTranslator().Translate(query.Expression);

        var group = Assert.IsType<GroupNode>(plan);
        Assert.Equal([AggregateKind.Buffer], group.Whole!.Value.Aggregates.Calls.Select(c => c.Kind));
    }
}
