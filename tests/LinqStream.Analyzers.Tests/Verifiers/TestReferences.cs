using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;

namespace LinqStream.Analyzers.Tests.Verifiers;

/// <summary>The assemblies a test source compiles against: net10.0 reference assemblies, LinqStream and System.Reactive.</summary>
/// <remarks>
/// <c>ReferenceAssemblies.Net.Net100</c> would download Microsoft.NETCore.App.Ref through NuGet, which the offline mirror does not
/// serve; Basic.Reference.Assemblies.Net100 embeds the same reference assemblies.
/// </remarks>
internal static class TestReferences
{
    /// <summary>Gets an empty reference-assembly set (nothing to download); the real references come from <see cref="All"/>.</summary>
    public static ReferenceAssemblies None { get; } = new("net10.0");

    public static ImmutableArray<MetadataReference> All { get; } =
    [
        .. Basic.Reference.Assemblies.Net100.References.All,
        MetadataReference.CreateFromFile(typeof(QStream).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(System.Reactive.Linq.Qbservable).Assembly.Location),
    ];
}
