using System.Globalization;

namespace LinqStream.Benchmarks.Infrastructure;

/// <summary>Options shared by the console modes (<c>--parallelism</c>, <c>--connector-cpu</c>).</summary>
public static class ConsoleOptions
{
    /// <summary>
    /// Takes <c>--runs N</c> out of <paramref name="args"/> (5 when absent); false, with the message written to
    /// <paramref name="output"/>, when N is not a positive integer.
    /// </summary>
    public static bool TryTakeRuns(List<string> args, TextWriter output, out int runs) => TryTakeCount(args, "--runs", 5, output, out runs);

    /// <summary>
    /// Takes <c><paramref name="name"/> N</c> out of <paramref name="args"/> (<paramref name="absent"/> when it is not there); false, with
    /// the message written to <paramref name="output"/>, when N is not a positive integer.
    /// </summary>
    public static bool TryTakeCount(List<string> args, string name, int absent, TextWriter output, out int count)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        count = absent;
        int at = args.IndexOf(name);
        if (at < 0)
        {
            return true;
        }

        if (at + 1 >= args.Count || !int.TryParse(args[at + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out count) || count < 1)
        {
            output.WriteLine($"{name} must be a positive integer.");
            return false;
        }

        args.RemoveRange(at, 2);
        return true;
    }
}
