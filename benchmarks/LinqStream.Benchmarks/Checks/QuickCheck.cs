using System.Diagnostics;
using System.Globalization;
using LinqStream.Benchmarks.Infrastructure;

namespace LinqStream.Benchmarks.Checks;

/// <summary><c>--quick</c>: every benchmark class's answer check at a small scale, with no timing; for CI, so benchmarks never rot.</summary>
public static class QuickCheck
{
    /// <summary>Runs the checks whose names contain one of <paramref name="filters"/> (all when there is none).</summary>
    /// <param name="filters">Parts of class names; <c>--full</c> among them runs the checks at the benchmarks' scale instead.</param>
    /// <param name="output">Where to write one line per check.</param>
    /// <returns>0 when every check passed, 1 otherwise.</returns>
    public static int Run(IReadOnlyList<string> filters, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(filters);
        ArgumentNullException.ThrowIfNull(output);
        bool full = filters.Contains("--full");
        filters = [.. filters.Where(f => f != "--full")];
        var names = AnswerChecks.Names.Where(n => filters.Count == 0 || filters.Any(f => n.Contains(f, StringComparison.OrdinalIgnoreCase))).ToList();
        int failed = 0;
        var total = Stopwatch.StartNew();
        foreach (var name in names)
        {
            var watch = Stopwatch.StartNew();
            try
            {
                string summary = AnswerChecks.Run(name, full);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ok    {name}: {summary} ({watch.Elapsed.TotalSeconds:F1} s)"));
            }
            catch (Exception ex)
            {
                failed++;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"FAIL  {name} ({watch.Elapsed.TotalSeconds:F1} s): {ex.GetType().Name}: {ex.Message}"));
                if (ex is not AnswerMismatchException)
                {
                    output.WriteLine(ex.ToString());
                }
            }
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{names.Count - failed} of {names.Count} answer checks passed in {total.Elapsed.TotalSeconds:F1} s."));
        return failed == 0 && names.Count > 0 ? 0 : 1;
    }
}
