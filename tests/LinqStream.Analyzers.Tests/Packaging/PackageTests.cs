using System.IO.Compression;
using Xunit.Abstractions;

namespace LinqStream.Analyzers.Tests.Packaging;

/// <summary>
/// The analyzers reach users only through the LinqStream package, and only if the SDK's compiler loads them: an analyzer built
/// against a newer Roslyn than the compiler is dropped with warning CS9057 and reports nothing, which no in-process test notices.
/// </summary>
[Trait("Category", "Slow")] // Slow (fast suite skips it): packs the library and builds a sample project with dotnet
public sealed class PackageTests(PackedLinqStream packed, ITestOutputHelper log) : IClassFixture<PackedLinqStream>
{
    private const string SampleProject = """
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <TargetFramework>net10.0</TargetFramework>
            <ImplicitUsings>enable</ImplicitUsings>
            <Nullable>enable</Nullable>
          </PropertyGroup>
          <ItemGroup>
            <Reference Include="LinqStream" HintPath="{LIB}/LinqStream.dll" />
            <Reference Include="System.Reactive" HintPath="{REACTIVE}" />
            <Analyzer Include="{ANALYZERS}/LinqStream.Analyzers.dll" />
          </ItemGroup>
        </Project>
        """;

    private const string SampleSource = """
        using System.Reactive.Linq;
        using LinqStream;

        public sealed record Bid(long Auction, decimal Price, DateTime Time);

        public static class Queries
        {
            public static object Total(IQStream<Bid> bids) => bids.Sum(b => b.Price);
            public static object Recent(IQStream<Bid> bids) => bids.Where(b => b.Time > DateTime.UtcNow);
        }
        """;

    [Fact]
    public void Pack_Package_ContainsTheAnalyzersUnderAnalyzersDotnetCs()
    {
        Assert.True(packed.PackExitCode == 0, packed.PackOutput);
        using var zip = ZipFile.OpenRead(packed.Package!);
        var entries = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("analyzers/dotnet/cs/LinqStream.Analyzers.dll", entries);
        Assert.Contains("analyzers/dotnet/cs/LinqStream.Analyzers.CodeFixes.dll", entries);
        Assert.Contains("lib/net10.0/LinqStream.dll", entries);

        // The analyzers are not a dependency, and neither is the Roslyn they are built on.
        using var nuspec = new StreamReader(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
        Assert.DoesNotContain("Microsoft.CodeAnalysis", nuspec.ReadToEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public void DotnetBuild_WithThePackagedAnalyzer_ReportsTheRules()
    {
        Assert.True(packed.PackExitCode == 0, packed.PackOutput);
        var sample = Path.Combine(packed.Directory, "sample");
        Directory.CreateDirectory(sample);
        File.WriteAllText(
            Path.Combine(sample, "Sample.csproj"),
            SampleProject
                .Replace("{LIB}", Path.Combine(packed.Unpacked!, "lib", "net10.0"), StringComparison.Ordinal)
                .Replace("{REACTIVE}", typeof(System.Reactive.Linq.Qbservable).Assembly.Location, StringComparison.Ordinal)
                .Replace("{ANALYZERS}", Path.Combine(packed.Unpacked!, "analyzers", "dotnet", "cs"), StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(sample, "Queries.cs"), SampleSource);

        var (exitCode, output) = DotNet.Run(sample, TimeSpan.FromMinutes(2), "build", "Sample.csproj", "-p:UseSharedCompilation=false");
        log.WriteLine(output);

        Assert.NotEqual(0, exitCode); // LSQ0001 is an error
        Assert.Contains("error LSQ0001", output, StringComparison.Ordinal);
        Assert.Contains("warning LSQ0002", output, StringComparison.Ordinal);
        Assert.DoesNotContain("CS9057", output, StringComparison.Ordinal); // analyzer built against a newer compiler: silently dropped
        Assert.DoesNotContain("CS8032", output, StringComparison.Ordinal); // analyzer could not be instantiated
    }
}
