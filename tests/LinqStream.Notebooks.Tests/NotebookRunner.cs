using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;
using Microsoft.DotNet.Interactive.Formatting;

namespace LinqStream.Notebooks.Tests;

/// <summary>
/// Runs a notebook's C# cells in order as Roslyn script submissions (<c>CSharpScript.RunAsync</c>, then <c>ContinueWithAsync</c>), as the
/// Polyglot C# kernel would, and compares each cell's result with the output saved in the notebook, when there is one.
/// </summary>
/// <remarks>
/// The Polyglot kernel is not installable here. <c>#r "nuget: LinqStream..."</c> lines become <c>#r</c> of the freshly built assemblies next
/// to the tests (and the assemblies they reference from there, as a package's dependencies would be); any other <c>nuget:</c> reference fails.
/// </remarks>
internal static partial class NotebookRunner
{
    /// <summary>The namespaces Polyglot's C# kernel imports in every cell.</summary>
    private static readonly string[] s_imports = ["System", "System.Collections.Generic", "System.Linq", "System.Text", "System.Threading.Tasks"];

    private static readonly string[] s_framework =
    [
        "System.Runtime", "System.Collections", "System.Linq", "System.Linq.Expressions", "System.Linq.Queryable", "System.Linq.AsyncEnumerable",
        "System.Console", "System.Text.Json", "System.Text.RegularExpressions", "System.ComponentModel.Primitives", "System.Runtime.Extensions",
        "System.Threading", "System.Diagnostics.Process", "netstandard",
    ];

    private static readonly Lock s_consoleLock = new();

    /// <summary>Set to 1 to save each notebook's final result into the .ipynb (as Polyglot would) instead of comparing it: after changing a notebook on purpose.</summary>
    public const string RecordVariable = "LINQSTREAM_RECORD_NOTEBOOKS";

    public static async Task RunAsync(Notebook notebook, bool record = false)
    {
        var last = notebook.CodeCells.Last();
        var options = Options(notebook);
        ScriptState<object>? state = null;
        int codeCell = 0;
        foreach (var cell in notebook.CodeCells)
        {
            codeCell++;
            string where = $"{notebook.Name}, cell {cell.Number} (code cell {codeCell})";
            if (cell.Kernel is not (null or "csharp"))
            {
                throw new NotebookCellException($"{where}: the kernel is '{cell.Kernel}'; the notebooks are C# only.");
            }

            string code = Rewrite(cell.Source, where);
            var cellOptions = options.WithFilePath($"{notebook.Name}#cell{cell.Number}");
            object? result;
            string console;
            try
            {
                (state, console) = await WithConsoleAsync(() => state is null
                    ? CSharpScript.RunAsync<object>(code, cellOptions)
                    : state.ContinueWithAsync<object>(code, cellOptions));
                result = state.ReturnValue;
            }
            catch (CompilationErrorException ex)
            {
                throw new NotebookCellException($"{where} does not compile:{Environment.NewLine}{string.Join(Environment.NewLine, ex.Diagnostics)}");
            }
            catch (Exception ex) when (ex is not NotebookCellException)
            {
                throw new NotebookCellException($"{where} threw {ex.GetType().Name}: {ex.Message}", ex);
            }

            if (state.Exception is { } error)
            {
                throw new NotebookCellException($"{where} threw {error.GetType().Name}: {error.Message}", error);
            }

            if (record && cell == last)
            {
                Record(notebook, cell, codeCell, result);
            }
            else
            {
                Compare(where, cell, result, console);
            }
        }
    }

    /// <summary>Saves <paramref name="result"/> as the cell's execute_result, in its preferred mime type, as Polyglot saves it.</summary>
    private static void Record(Notebook notebook, NotebookCell cell, int executionCount, object? result)
    {
        cell.Json["outputs"] = new JsonArray();
        cell.Json["execution_count"] = null;
        if (result is not null)
        {
            string mime = Formatter.GetPreferredMimeTypesFor(result.GetType()).First();
            var lines = result.ToDisplayString(mime).Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
            var text = new JsonArray([.. lines.Select((l, i) => (JsonNode?)JsonValue.Create(i < lines.Length - 1 ? l + "\n" : l))]);
            cell.Json["execution_count"] = executionCount;
            cell.Json["outputs"] = new JsonArray(new JsonObject
            {
                ["data"] = new JsonObject { [mime] = text },
                ["execution_count"] = executionCount,
                ["metadata"] = new JsonObject(),
                ["output_type"] = "execute_result",
            });
        }

        notebook.Save();
    }

    /// <summary>Checks the cell's result against each saved mime type, and its console output against the saved stream output.</summary>
    private static void Compare(string where, NotebookCell cell, object? result, string console)
    {
        foreach (var (mime, saved) in cell.SavedResult)
        {
            string actual = result is null ? "" : result.ToDisplayString(mime);
            if (Normalize(actual) != Normalize(saved))
            {
                throw new NotebookCellException(
                    $"{where}: the result displayed as {mime} differs from the output saved in the notebook.{Environment.NewLine}"
                    + $"saved:{Environment.NewLine}{saved}{Environment.NewLine}actual:{Environment.NewLine}{actual}");
            }
        }

        if (cell.SavedConsole is { } savedConsole && Normalize(savedConsole) != Normalize(console))
        {
            throw new NotebookCellException(
                $"{where}: the console output differs from the one saved.{Environment.NewLine}saved:{Environment.NewLine}{savedConsole}{Environment.NewLine}actual:{Environment.NewLine}{console}");
        }
    }

    /// <summary>Line ends are not compared, nor the bytes of embedded PNG images (font rendering differs between machines): only that an image is there.</summary>
    private static string Normalize(string text) =>
        DataUri().Replace(text.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd(), "data:image/png;base64,(image)");

    /// <summary>Replaces <c>#r "nuget: LinqStream..."</c> by <c>#r</c> of the built assemblies; drops <c>#!csharp</c> kernel lines.</summary>
    private static string Rewrite(string source, string where)
    {
        var lines = source.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var match = NugetReference().Match(lines[i]);
            if (match.Success)
            {
                string package = match.Groups["package"].Value;
                string assembly = Path.Combine(AppContext.BaseDirectory, package + ".dll");
                if (!package.StartsWith("LinqStream", StringComparison.Ordinal) || !File.Exists(assembly))
                {
                    throw new NotebookCellException($"{where}: '{lines[i].Trim()}' cannot be restored here; only LinqStream packages (built next to the tests) can be referenced.");
                }

                // One #r per line: Roslyn reads a directive to the end of its line.
                lines[i] = string.Join("\n", WithDependencies(assembly).Select(a => $"#r \"{a}\""));
            }
            else if (lines[i].TrimStart().StartsWith("#!csharp", StringComparison.Ordinal))
            {
                lines[i] = "";
            }
            else if (lines[i].TrimStart().StartsWith("#!", StringComparison.Ordinal))
            {
                throw new NotebookCellException($"{where}: the magic command '{lines[i].Trim()}' is Polyglot's, not C#'s; the test cannot run it.");
            }
        }

        return string.Join('\n', lines);
    }

    /// <summary>The package's assembly and the non-framework assemblies it references, found next to the tests (a package's dependencies).</summary>
    private static IEnumerable<string> WithDependencies(string assembly)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var pending = new Stack<string>([assembly]);
        while (pending.TryPop(out var file))
        {
            if (!seen.Add(file))
            {
                continue;
            }

            foreach (var reference in ReferencedAssemblies(file))
            {
                string candidate = Path.Combine(AppContext.BaseDirectory, reference + ".dll");
                if (File.Exists(candidate))
                {
                    pending.Push(candidate);
                }
            }
        }

        return seen.Order(StringComparer.Ordinal);
    }

    private static IEnumerable<string> ReferencedAssemblies(string file)
    {
        using var stream = File.OpenRead(file);
        using var reader = new System.Reflection.PortableExecutable.PEReader(stream);
        var metadata = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(reader);
        return [.. metadata.AssemblyReferences.Select(h => metadata.GetString(metadata.GetAssemblyReference(h).Name))];
    }

    private static ScriptOptions Options(Notebook notebook)
    {
        string frameworkDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var references = s_framework
            .Select(name => Path.Combine(frameworkDirectory, name + ".dll"))
            .Where(File.Exists)
            .Append(typeof(object).Assembly.Location)
            .Select(file => (MetadataReference)MetadataReference.CreateFromFile(file));
        return ScriptOptions.Default
            .WithReferences(references)
            .WithImports(s_imports)
            .WithMetadataResolver(ScriptMetadataResolver.Default.WithBaseDirectory(Notebook.Folder))
            .WithEmitDebugInformation(true)
            .WithFileEncoding(System.Text.Encoding.UTF8)
            .WithFilePath(notebook.Name);
    }

    /// <summary>Runs a submission with Console.Out captured (one notebook at a time writes to the console).</summary>
    private static async Task<(ScriptState<object> State, string Console)> WithConsoleAsync(Func<Task<ScriptState<object>>> run)
    {
        var captured = new StringWriter(new StringBuilder(), System.Globalization.CultureInfo.InvariantCulture);
        TextWriter original;
        lock (s_consoleLock)
        {
            original = Console.Out;
            Console.SetOut(captured);
        }

        try
        {
            var state = await run();
            return (state, captured.ToString());
        }
        finally
        {
            lock (s_consoleLock)
            {
                Console.SetOut(original);
            }
        }
    }

    [GeneratedRegex(@"^\s*#r\s+""nuget:\s*(?<package>[A-Za-z0-9_.]+)\s*(,\s*[^""]*)?""\s*$")]
    private static partial Regex NugetReference();

    [GeneratedRegex(@"data:image/png;base64,[A-Za-z0-9+/=]+")]
    private static partial Regex DataUri();
}

/// <summary>A notebook cell that does not compile, throws, or gives a result other than the one saved; the message names the notebook and the cell.</summary>
public sealed class NotebookCellException : Exception
{
    public NotebookCellException(string message)
        : base(message)
    {
    }

    public NotebookCellException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
