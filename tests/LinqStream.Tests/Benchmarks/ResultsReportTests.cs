using LinqStream.Benchmarks.Reporting;

namespace LinqStream.Tests.Benchmarks;

/// <summary><c>--report</c> after a partial run keeps the rows of the classes it did not measure.</summary>
public sealed class ResultsReportTests
{
    private static readonly BenchmarkRow[] s_old =
    [
        new("Q0PassThrough", "", "RxNet", 118.78, 64),
        new("Q0PassThrough", "", "LinqStreamQuery", 22.16, 0),
        new("Q3LocalItemSuggestion", "", "LinqStreamQuery", 50, 1),
        new("TumblingCountBenchmarks", "Keys=10000", "EngineDirect", 12.86, double.NaN),
    ];

    [Fact]
    public void ReadTable_ReadsBackWhatTableWrote()
    {
        string results = ResultsReport.UpdateResults("# Results\n\n" + ResultsReport.TableBegin + "\n" + ResultsReport.TableEnd + "\n", ResultsReport.Table(s_old), null);

        var rows = ResultsReport.ReadTable(results);

        Assert.Equal(s_old.Select(r => (r.Class, r.Parameters, r.Method, r.MeanNs)), rows.Select(r => (r.Class, r.Parameters, r.Method, r.MeanNs)));
        Assert.Equal([64.0, 0.0, 1.0], rows.Take(3).Select(r => r.AllocatedBytes));
        Assert.True(double.IsNaN(rows[3].AllocatedBytes));
    }

    [Fact]
    public void Merge_AMeasuredClassReplacesAllItsRows_OthersAreKept()
    {
        BenchmarkRow[] fresh = [new("Q3LocalItemSuggestion", "", "RxNet", 400, 100), new("Q3LocalItemSuggestion", "", "LinqStreamQuery", 45, 1)];

        var kept = ResultsReport.Merge(fresh, s_old);

        Assert.Equal(["Q0PassThrough", "Q0PassThrough", "TumblingCountBenchmarks"], kept.Select(r => r.Class));
    }

    [Fact]
    public void ReadTable_NoTable_NoRows() => Assert.Empty(ResultsReport.ReadTable("# Results\nno table yet\n"));
}
