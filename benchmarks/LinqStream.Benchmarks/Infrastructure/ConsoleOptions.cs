using System.Globalization;

namespace LinqStream.Benchmarks.Infrastructure;

/// <summary>Options shared by the console modes (<c>--parallelism</c>, <c>--connector-cpu</c>).</summary>
public static class ConsoleOptions
{
    /// <summary>
    /// Takes <c>--runs N</c> out of <paramref name="args"/> (5 when absent); false, with the message written to
    /// <paramref name="output"/>, when N is not a positive integer.
    /// </summary>
    public static bool TryTakeRuns(List<string> args, TextWriter output, out int runs)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        runs = 5;
        int at = args.IndexOf("--runs");
        if (at < 0)
        {
            return true;
        }

        if (at + 1 >= args.Count || !int.TryParse(args[at + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out runs) || runs < 1)
        {
            output.WriteLine("--runs must be a positive integer.");
            return false;
        }

        args.RemoveRange(at, 2);
        return true;
    }
}
