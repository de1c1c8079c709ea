using System.IO.Compression;

namespace LinqStream.Analyzers.Tests.Packaging;

/// <summary>Packs src/LinqStream once (Release) into a temporary folder and unpacks the package next to it.</summary>
public sealed class PackedLinqStream : IDisposable
{
    public PackedLinqStream()
    {
        Directory = Path.Combine(Path.GetTempPath(), "linqstream-analyzers-" + Guid.NewGuid().ToString("N"));
        var output = Path.Combine(Directory, "package");
        (PackExitCode, PackOutput) = DotNet.Run(
            Repository.Root,
            TimeSpan.FromMinutes(3),
            "pack",
            Repository.PathOf("src", "LinqStream", "LinqStream.csproj"),
            "-c",
            "Release",
            "-o",
            output,
            "-p:UseSharedCompilation=false");
        Package = System.IO.Directory.Exists(output) ? System.IO.Directory.GetFiles(output, "LinqStream.*.nupkg").SingleOrDefault() : null;
        if (Package is not null)
        {
            Unpacked = Path.Combine(Directory, "unpacked");
            ZipFile.ExtractToDirectory(Package, Unpacked);
        }
    }

    public string Directory { get; }

    public int PackExitCode { get; }

    public string PackOutput { get; }

    public string? Package { get; }

    public string? Unpacked { get; }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless; the next run uses a new name.
        }
    }
}
