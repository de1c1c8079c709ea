using System.Diagnostics;
using System.Linq.Expressions;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Runtime.CompilerServices;

namespace LinqStream.Internal;

/// <summary>
/// Remembers where in the user's code each query lambda was written, so a lambda that throws at run time can be reported with
/// its file and line. Capturing costs one stack walk per operator call when the query is built (never per event); the line is
/// read from the portable PDB only when an error message needs it.
/// </summary>
internal static class QuerySites
{
    private static readonly ConditionalWeakTable<LambdaExpression, Site> Sites = [];
    private static readonly Assembly Engine = typeof(QuerySites).Assembly;

    /// <summary>Records the caller of the operator that built <paramref name="expression"/> as the site of its lambdas.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Record(Expression expression)
    {
        if (expression is not MethodCallExpression call)
        {
            return;
        }

        Site? site = null;
        foreach (var argument in call.Arguments)
        {
            var lambda = argument is UnaryExpression { NodeType: ExpressionType.Quote, Operand: LambdaExpression quoted } ? quoted : argument as LambdaExpression;
            if (lambda is null || Sites.TryGetValue(lambda, out _))
            {
                continue;
            }

            site ??= Capture();
            if (site is null)
            {
                return;
            }

            Sites.AddOrUpdate(lambda, site);
        }
    }

    /// <summary>Describes where the lambdas were written: <c> (written at Program.cs:12)</c>, or nothing when unknown.</summary>
    public static string Describe(IEnumerable<LambdaExpression> lambdas)
    {
        var places = new List<string>();
        foreach (var lambda in lambdas)
        {
            if (Sites.TryGetValue(lambda, out var site) && site.Describe() is { } place && !places.Contains(place))
            {
                places.Add(place);
            }
        }

        return places.Count == 0 ? string.Empty : " (written at " + string.Join(", ", places) + ")";
    }

    private static Site? Capture()
    {
        var trace = new StackTrace(2, fNeedFileInfo: false);
        foreach (var frame in trace.GetFrames())
        {
            var method = frame.GetMethod();
            var assembly = method?.DeclaringType?.Assembly;
            if (method is null || assembly is null || assembly == Engine || IsFramework(assembly))
            {
                continue;
            }

            return new Site(method, frame.GetILOffset());
        }

        return null;
    }

    private static bool IsFramework(Assembly assembly)
    {
        string name = assembly.GetName().Name ?? string.Empty;
        return name.StartsWith("System.", StringComparison.Ordinal) || name is "System" or "mscorlib" or "netstandard";
    }

    private sealed class Site(MethodBase method, int ilOffset)
    {
        private string? _description;

        public string Describe() => _description ??= Resolve() ?? $"{method.DeclaringType?.Name}.{method.Name}";

        private string? Resolve()
        {
            try
            {
                string location = method.Module.Assembly.Location;
                if (ilOffset < 0 || string.IsNullOrEmpty(location))
                {
                    return null;
                }

                using var pe = new PEReader(File.OpenRead(location));
                MetadataReaderProvider? pdb = null;
                try
                {
                    var embedded = pe.ReadDebugDirectory().FirstOrDefault(d => d.Type == DebugDirectoryEntryType.EmbeddedPortablePdb);
                    if (embedded.DataSize > 0)
                    {
                        pdb = pe.ReadEmbeddedPortablePdbDebugDirectoryData(embedded);
                    }
                    else
                    {
                        string path = Path.ChangeExtension(location, ".pdb");
                        if (!File.Exists(path))
                        {
                            return null;
                        }

                        pdb = MetadataReaderProvider.FromPortablePdbStream(File.OpenRead(path));
                    }

                    var reader = pdb.GetMetadataReader();
                    var handle = (MethodDefinitionHandle)MetadataTokens.Handle(method.MetadataToken);
                    SequencePoint? best = null;
                    foreach (var point in reader.GetMethodDebugInformation(handle).GetSequencePoints())
                    {
                        if (!point.IsHidden && point.Offset <= ilOffset)
                        {
                            best = point;
                        }
                    }

                    if (best is not { } found)
                    {
                        return null;
                    }

                    string file = reader.GetString(reader.GetDocument(found.Document).Name);
                    return $"{Path.GetFileName(file)}:{found.StartLine}";
                }
                finally
                {
                    pdb?.Dispose();
                }
            }
            catch (Exception ex) when (ex is IOException or BadImageFormatException or InvalidOperationException or UnauthorizedAccessException or ArgumentException)
            {
                return null;
            }
        }
    }
}
