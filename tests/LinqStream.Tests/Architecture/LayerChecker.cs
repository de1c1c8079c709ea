using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace LinqStream.Tests.Architecture;

/// <summary>A reference from a type in one layer to a type in a layer it may not use.</summary>
public sealed record LayerViolation(string File, int Line, string FromLayer, string ToLayer, string Symbol)
{
    public override string ToString() => $"{File}:{Line}: {FromLayer} → {ToLayer} ('{Symbol}')";
}

/// <summary>
/// Finds references against the allowed direction between layers, where a layer is a folder of the source tree (so public
/// types that live in the root namespace belong to the folder they are written in), or a role within a folder: a file of an
/// operator family's folder whose name has a role suffix (the logical <c>…Node.cs</c>) belongs to that role's layer. Roslyn binds every name in every file;
/// a name bound to a type (or a member of a type) declared in another folder of the same compilation is a reference.
/// </summary>
public sealed class LayerChecker(
    IReadOnlyList<(string Folder, string Layer)> layers,
    IReadOnlyDictionary<string, string[]> allowed,
    IReadOnlyList<(string Folder, string FileSuffix, string Layer)>? roles = null)
{
    /// <summary>
    /// Gets the layer of a file: a role's layer when the file is below the role's folder and its name ends with the role's
    /// suffix, else the layer of the longest folder prefix of its path below the source root; null when unassigned.
    /// </summary>
    public string? LayerOf(string relativePath)
    {
        string path = relativePath.Replace('\\', '/');
        string fileName = path[(path.LastIndexOf('/') + 1)..];
        foreach (var (folder, suffix, layer) in roles ?? [])
        {
            if (path.StartsWith(folder + "/", StringComparison.Ordinal) && fileName.EndsWith(suffix, StringComparison.Ordinal))
            {
                return layer;
            }
        }

        string? best = null;
        int bestLength = -1;
        foreach (var (folder, layer) in layers)
        {
            if ((path.StartsWith(folder + "/", StringComparison.Ordinal) || path == folder) && folder.Length > bestLength)
            {
                best = layer;
                bestLength = folder.Length;
            }
        }

        return best;
    }

    /// <summary>Checks every tree of <paramref name="compilation"/>; paths are made relative to <paramref name="root"/>.</summary>
    public IReadOnlyList<LayerViolation> Check(CSharpCompilation compilation, string root)
    {
        var violations = new List<LayerViolation>();
        foreach (var tree in compilation.SyntaxTrees)
        {
            if (tree.FilePath.Length == 0)
            {
                continue; // the implicit global usings
            }

            string from = Relative(tree.FilePath, root);
            string fromLayer = LayerOf(from) ?? throw new InvalidOperationException($"'{from}' is in no layer; add its folder to the layer table.");
            var model = compilation.GetSemanticModel(tree);
            var seen = new HashSet<(string, ISymbol)>();
            foreach (var name in tree.GetRoot().DescendantNodes().OfType<SimpleNameSyntax>())
            {
                var type = DeclaringType(model.GetSymbolInfo(name).Symbol);
                if (type is null)
                {
                    continue;
                }

                foreach (var reference in type.DeclaringSyntaxReferences)
                {
                    string to = Relative(reference.SyntaxTree.FilePath, root);
                    string? toLayer = LayerOf(to);
                    if (toLayer is null || toLayer == fromLayer || Allowed(fromLayer, toLayer) || !seen.Add((toLayer, type)))
                    {
                        continue;
                    }

                    int line = name.GetLocation().GetLineSpan().StartLinePosition.Line + 1;
                    violations.Add(new LayerViolation(from, line, fromLayer, toLayer, type.ToDisplayString()));
                }
            }
        }

        return violations;
    }

    private bool Allowed(string from, string to) => allowed.TryGetValue(from, out var targets) && targets.Contains(to);

    /// <summary>The type a name refers to: the type itself, or the type declaring the member, unwrapped to its definition.</summary>
    private static INamedTypeSymbol? DeclaringType(ISymbol? symbol)
    {
        var type = symbol switch
        {
            INamedTypeSymbol named => named,
            IMethodSymbol { MethodKind: MethodKind.ReducedExtension } reduced => reduced.ReducedFrom?.ContainingType,
            IFieldSymbol or IPropertySymbol or IMethodSymbol or IEventSymbol => symbol.ContainingType,
            _ => null,
        };
        return type?.OriginalDefinition;
    }

    private static string Relative(string path, string root) => Path.GetRelativePath(root, path).Replace('\\', '/');

    /// <summary>Parses every <c>.cs</c> file below <paramref name="sourceRoot"/> (except obj/bin) into one compilation with the running framework's assemblies.</summary>
    public static CSharpCompilation CompileFolder(string sourceRoot)
    {
        var options = new CSharpParseOptions(LanguageVersion.Preview);
        var trees = Directory.EnumerateFiles(sourceRoot, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => CSharpSyntaxTree.ParseText(File.ReadAllText(f), options, f));
        return Compile(trees.Append(CSharpSyntaxTree.ParseText(ImplicitUsings, options)));
    }

    /// <summary>The global usings the SDK adds to a project with <c>ImplicitUsings</c> on.</summary>
    public const string ImplicitUsings =
        "global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq; " +
        "global using System.Net.Http; global using System.Threading; global using System.Threading.Tasks;";

    /// <summary>A compilation of <paramref name="trees"/> against the assemblies the test runs with (framework and packages).</summary>
    public static CSharpCompilation Compile(IEnumerable<SyntaxTree> trees)
    {
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => p.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) && !Path.GetFileName(p).StartsWith("LinqStream", StringComparison.Ordinal))
            .Select(p => MetadataReference.CreateFromFile(p));
        return CSharpCompilation.Create("LayerCheck", trees, references, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
    }
}
