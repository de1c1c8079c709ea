using System.Collections.Immutable;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace LinqStream.Cli.Scripting;

/// <summary>
/// Runs LinqStream's analyzers (LSQ0001...) over a query script and returns their diagnostics with the script's own line numbers.
/// </summary>
/// <remarks>
/// <para>
/// Roslyn 4.14 runs operation analyzers over the methods a script declares but not over its top-level statements, where a
/// <c>run</c> query lives. So the analyzers see a copy of the script compiled as ordinary C#: the top-level statements and
/// variables (and the methods the script declares, as local functions) go into one method of a class that has the members of <see cref="RunGlobals"/>,
/// the last expression becomes its <c>return</c>, and the types the script declares become nested types, as they are in a script.
/// </para>
/// <para>
/// Every piece of the script is copied at its own line (a <c>#line</c> directive before it) and its own column (padded with spaces),
/// so a diagnostic's mapped position is its position in the .csx; the glue code is <c>#line default</c> (not <c>#line hidden</c>:
/// Roslyn's analyzer driver skips an operation block that starts in a hidden region), and a diagnostic there is dropped. The compiler's own errors come from the real script compilation (<see cref="QueryScript.Compile"/>), never from this copy.
/// </para>
/// </remarks>
internal static class ScriptAnalysis
{
    /// <summary>The file name the <c>#line</c> directives give (diagnostics are printed with the script's path, not this name).</summary>
    public const string MappedFileName = "query.csx";

    /// <summary>
    /// What a script sees as globals (<see cref="RunGlobals"/>'s public members), declared for the analyzers' copy: the analyzers only
    /// need the types, so the bodies throw. <c>ScriptAnalysisTests</c> checks that every public member of RunGlobals is here.
    /// </summary>
    internal const string GlobalsPrelude = """
        public LinqStream.IQStream<LinqStream.Cli.Scripting.Row> input => throw new System.NotSupportedException();
        public LinqStream.IQStream<T> InputAs<T>() => throw new System.NotSupportedException();
        """;

    private const string ClassName = "LinqStreamQueryScript";

    private static readonly Lazy<ImmutableArray<DiagnosticAnalyzer>> s_analyzers = new(() =>
    [
        .. typeof(LinqStream.Analyzers.UnwindowedAggregateAnalyzer).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && t.IsPublic && typeof(DiagnosticAnalyzer).IsAssignableFrom(t) && t.GetConstructor(Type.EmptyTypes) is not null)
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!),
    ]);

    /// <summary>Gets every LinqStream analyzer in the analyzer assembly.</summary>
    public static ImmutableArray<DiagnosticAnalyzer> Analyzers => s_analyzers.Value;

    /// <summary>Analyzes <paramref name="code"/>; returns the LSQ diagnostics (and AD0001 if an analyzer crashed) in the script's coordinates.</summary>
    public static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(string code, IEnumerable<MetadataReference> references, IEnumerable<string> imports, CancellationToken cancellationToken)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var wrapper = CSharpSyntaxTree.ParseText(Wrap(code), parse, path: "linqstream-query-analysis.cs", encoding: Encoding.UTF8, cancellationToken: cancellationToken);
        var usings = CSharpSyntaxTree.ParseText(
            string.Concat(imports.Select(i => $"global using {i};\n")), parse, path: "linqstream-query-imports.cs", encoding: Encoding.UTF8, cancellationToken: cancellationToken);
        var compilation = CSharpCompilation.Create(
            "LinqStreamQueryAnalysis", [usings, wrapper], references, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true));
        var analysis = compilation.WithAnalyzers(Analyzers, new CompilationWithAnalyzersOptions(
            new AnalyzerOptions([]), onAnalyzerException: null, concurrentAnalysis: false, logAnalyzerExecutionTime: false));
        var diagnostics = await analysis.GetAnalyzerDiagnosticsAsync(cancellationToken).ConfigureAwait(false);
        return
        [
            .. diagnostics
                .Where(d => d.Id.StartsWith("LSQ", StringComparison.Ordinal) || d.Id == "AD0001")
                .Where(d => d.Id == "AD0001" || IsInScript(d.Location))
                .OrderBy(d => d.Location.GetMappedLineSpan().StartLinePosition)
                .ThenBy(d => d.Id, StringComparer.Ordinal),
        ];
    }

    /// <summary>The script as ordinary C# for the analyzers, every piece at its own line and column (see the remarks on the class).</summary>
    internal static string Wrap(string code)
    {
        var text = SourceText.From(code);
        var root = (CompilationUnitSyntax)CSharpSyntaxTree.ParseText(text, new CSharpParseOptions(LanguageVersion.Latest, kind: SourceCodeKind.Script)).GetRoot();
        var output = new MappedWriter(text);
        foreach (var directive in root.Externs.Cast<SyntaxNode>().Concat(root.Usings))
        {
            output.Copy(directive.Span);
        }

        var query = root.Members.OfType<GlobalStatementSyntax>().LastOrDefault() is { Statement: ExpressionStatementSyntax { SemicolonToken.IsMissing: true } last }
            ? last
            : null;
        var classMembers = new List<MemberDeclarationSyntax>();
        output.Hidden($"public sealed class {ClassName}\n{{\n{GlobalsPrelude}\npublic async System.Threading.Tasks.Task<object> Run()\n{{");
        foreach (var member in root.Members)
        {
            switch (member)
            {
                case GlobalStatementSyntax { Statement: var statement } when statement == query:
                    output.Hidden("return");
                    output.Copy(query.Expression.Span);
                    output.Append(";");
                    break;
                case GlobalStatementSyntax global:
                    output.Copy(global.Span);
                    break;
                case FieldDeclarationSyntax field:
                    // A script's top-level 'var x = ...;' parses as a field; it is a variable of the query's code.
                    output.Copy(field.Span, field.Modifiers.Where(m => !m.IsKind(SyntaxKind.ConstKeyword)).Select(m => m.Span));
                    break;
                case MethodDeclarationSyntax method:
                    // A method a script declares can use its top-level variables, as a local function can.
                    output.Copy(method.Span, method.Modifiers.Where(m => !m.IsKind(SyntaxKind.StaticKeyword) && !m.IsKind(SyntaxKind.AsyncKeyword) && !m.IsKind(SyntaxKind.UnsafeKeyword)).Select(m => m.Span));
                    break;
                default:
                    classMembers.Add(member);
                    break;
            }
        }

        output.Hidden(query is null ? "return null;\n}" : "}");
        foreach (var member in classMembers)
        {
            output.Copy(member.Span);
        }

        output.Hidden("}");
        return output.ToString();
    }

    private static bool IsInScript(Location location)
    {
        if (!location.IsInSource)
        {
            return false;
        }

        var span = location.GetMappedLineSpan();
        return span.HasMappedPath && span.Path == MappedFileName;
    }

    /// <summary>Writes pieces of the script at their original line (<c>#line</c>) and column (spaces), and glue code under <c>#line default</c>.</summary>
    private sealed class MappedWriter(SourceText source)
    {
        private readonly StringBuilder _text = new();

        public void Hidden(string code)
        {
            NewLine();
            _text.Append("#line default\n").Append(code.ReplaceLineEndings("\n")).Append('\n');
        }

        public void Copy(TextSpan span) => Copy(span, []);

        /// <summary>Copies <paramref name="span"/> of the script; the <paramref name="blanks"/> inside it become spaces (same columns).</summary>
        public void Copy(TextSpan span, IEnumerable<TextSpan> blanks)
        {
            var start = source.Lines.GetLinePosition(span.Start);
            NewLine();
            _text.Append(System.Globalization.CultureInfo.InvariantCulture, $"#line {start.Line + 1} \"{MappedFileName}\"\n").Append(' ', start.Character);
            var piece = source.ToString(span).ToCharArray();
            foreach (var blank in blanks)
            {
                for (int i = blank.Start - span.Start; i < blank.End - span.Start; i++)
                {
                    piece[i] = ' ';
                }
            }

            _text.Append(piece);
        }

        public void Append(string code) => _text.Append(code);

        public override string ToString()
        {
            NewLine();
            return _text.ToString();
        }

        private void NewLine()
        {
            if (_text.Length > 0 && _text[^1] != '\n')
            {
                _text.Append('\n');
            }
        }
    }
}
