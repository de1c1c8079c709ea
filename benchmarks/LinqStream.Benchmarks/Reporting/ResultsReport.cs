namespace LinqStream.Benchmarks.Reporting;

/// <summary>Placeholder.</summary>
public static class ResultsReport
{
    public static int Run(IReadOnlyList<string> args, TextWriter output) => 0;
}
