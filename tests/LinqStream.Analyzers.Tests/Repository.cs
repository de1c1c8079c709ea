namespace LinqStream.Analyzers.Tests;

/// <summary>Finds files of the repository the tests were built from.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "LinqStream.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No LinqStream.sln above '{AppContext.BaseDirectory}'.");
    }
}
