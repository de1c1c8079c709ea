using System.Collections.Immutable;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;

namespace LinqStream.Cli.Scripting;

/// <summary>
/// A <c>linqstream run</c> query script: C# compiled with Roslyn scripting against LinqStream, with <see cref="RunGlobals"/> as globals.
/// Its last expression (no semicolon) is the query.
/// </summary>
internal sealed class QueryScript
{
    /// <summary>The namespaces a script can use without <c>using</c> lines.</summary>
    public static readonly string[] Imports =
        ["System", "System.Collections.Generic", "System.Linq", "System.Threading.Tasks", "LinqStream", "LinqStream.Cli.Scripting"];

    private static readonly string[] s_framework =
        ["System.Runtime", "System.Collections", "System.Linq", "System.Linq.Expressions", "System.Linq.Queryable", "System.Console", "System.Text.Json", "netstandard"];

    private readonly Script<object> _script;

    private QueryScript(string path, string code)
    {
        Path = path;
        Code = code;
        var options = ScriptOptions.Default
            .WithFilePath(System.IO.Path.GetFullPath(path))
            .WithFileEncoding(Encoding.UTF8)
            .WithEmitDebugInformation(true)
            .WithReferences(References())
            .WithImports(Imports);
        _script = CSharpScript.Create<object>(code, options, typeof(RunGlobals));
    }

    public string Path { get; }

    public string Code { get; }

    public static QueryScript Load(string path) => new(path, File.ReadAllText(path));

    /// <summary>A script whose text came from elsewhere (a cluster submission); <paramref name="path"/> names it in messages.</summary>
    public static QueryScript FromText(string path, string code) => new(path, code);

    /// <summary>Compiles the script; returns the compiler's errors and warnings.</summary>
    public ImmutableArray<Diagnostic> Compile() => _script.Compile();

    /// <summary>Runs LinqStream's analyzers over the script (see <see cref="ScriptAnalysis"/>); the diagnostics carry the script's line numbers.</summary>
    public Task<ImmutableArray<Diagnostic>> AnalyzeAsync(CancellationToken cancellationToken) =>
        ScriptAnalysis.AnalyzeAsync(Code, References(), Imports, cancellationToken);

    /// <summary>Formats a diagnostic as <c>FILE(line,col): error CS0103: ...</c>, with the source line and a caret under the span.</summary>

    public string Format(Diagnostic diagnostic)
    {
        var text = new StringBuilder();
        // Mapped: an analyzer diagnostic comes from the analysis copy, whose #line directives give the script's lines.
        var span = diagnostic.Location.GetMappedLineSpan();
        // Roslyn prints the full path; print the file as the user named it.
        text.Append(Path)
            .Append('(').Append(span.StartLinePosition.Line + 1).Append(',').Append(span.StartLinePosition.Character + 1).Append("): ")
            .Append(diagnostic.Severity.ToString().ToLowerInvariant()).Append(' ').Append(diagnostic.Id).Append(": ")
            .Append(diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        if (diagnostic.Location.IsInSource)
        {
            var lines = Code.Split('\n');
            int line = span.StartLinePosition.Line;
            if (line >= 0 && line < lines.Length)
            {
                string source = lines[line].TrimEnd('\r');
                text.AppendLine().Append("    ").Append(source.Replace('\t', ' '));
                int column = Math.Min(span.StartLinePosition.Character, source.Length);
                int width = span.EndLinePosition.Line == line ? Math.Max(1, span.EndLinePosition.Character - span.StartLinePosition.Character) : Math.Max(1, source.Length - column);
                text.AppendLine().Append("    ").Append(' ', column).Append('^', width);
            }
        }

        return text.ToString();
    }

    /// <summary>Runs the script and returns its last expression's value.</summary>
    public async Task<object?> RunAsync(RunGlobals globals, CancellationToken cancellationToken)
    {
        var state = await _script.RunAsync(globals, cancellationToken: cancellationToken).ConfigureAwait(false);
        return state.ReturnValue;
    }

    /// <summary>The assemblies a script compiles against: the framework's core, LinqStream, Rx (IQStream is an IQbservable) and the script globals.</summary>
    internal static IEnumerable<MetadataReference> References()
    {
        string frameworkDirectory = System.IO.Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var files = s_framework
            .Select(name => System.IO.Path.Combine(frameworkDirectory, name + ".dll"))
            .Where(File.Exists)
            .Append(typeof(object).Assembly.Location)
            .Append(typeof(QStream).Assembly.Location)
            .Append(typeof(System.Reactive.Linq.IQbservable<>).Assembly.Location)
            .Append(typeof(RunGlobals).Assembly.Location);
        return files.Distinct(StringComparer.Ordinal).Select(file => (MetadataReference)MetadataReference.CreateFromFile(file));
    }
}
