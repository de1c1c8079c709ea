namespace LinqStream.Benchmarks.Infrastructure;

/// <summary>A benchmark class whose implementations can be checked, at a small scale, against a naive model of the query.</summary>
/// <remarks>The same check runs at full scale in the class's <c>[GlobalSetup]</c>, so a benchmark never times a wrong answer.</remarks>
public interface IAnswerCheck
{
    /// <summary>Runs every implementation of the query on a small input; throws <see cref="AnswerMismatchException"/> when one differs from the model.</summary>
    /// <returns>A short summary of what was checked, such as the number of results.</returns>
    string CheckQuick();

    /// <summary>The same check at the scale the benchmark measures (what <c>[GlobalSetup]</c> runs).</summary>
    /// <returns>A short summary of what was checked.</returns>
    string CheckFull();
}

/// <summary>Every <see cref="IAnswerCheck"/> in this assembly, found by reflection so that a new benchmark class cannot be forgotten.</summary>
public static class AnswerChecks
{
    /// <summary>Gets the checks' names (the benchmark class names), sorted.</summary>
    public static IReadOnlyList<string> Names { get; } =
        [.. typeof(AnswerChecks).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && t.IsAssignableTo(typeof(IAnswerCheck)))
            .Select(t => t.Name)
            .Order(StringComparer.Ordinal)];

    /// <summary>Creates the check of a benchmark class.</summary>
    /// <param name="name">A name from <see cref="Names"/>.</param>
    public static IAnswerCheck Create(string name)
    {
        var type = typeof(AnswerChecks).Assembly.GetTypes().Single(t => t.Name == name && t.IsAssignableTo(typeof(IAnswerCheck)));
        return (IAnswerCheck)Activator.CreateInstance(type)!;
    }

    /// <summary>Runs one check at the small scale, or at the benchmark's when <paramref name="full"/>.</summary>
    public static string Run(string name, bool full = false) => full ? Create(name).CheckFull() : Create(name).CheckQuick();
}
