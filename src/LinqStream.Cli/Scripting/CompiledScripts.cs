using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.CodeAnalysis;

namespace LinqStream.Cli.Scripting;

/// <summary>
/// The query scripts this process has compiled, by name and SHA-256 of their text: a silo compiles a submitted script once (Roslyn
/// takes seconds per script here), however many of a job's tasks, epochs and rollbacks start on it; concurrent starts wait for
/// the one compilation.
/// </summary>
/// <remarks>
/// Bounded: past <see cref="Capacity"/> different scripts the cache starts again (a silo runs a handful of jobs). A script with
/// errors fails each time with the same <see cref="ScriptContractException"/>. Types a script declares are the same for every
/// job started from the cached script in this process; nothing that crosses processes (checkpoints, channels) depends on them.
/// </remarks>
internal static class CompiledScripts
{
    /// <summary>The number of different scripts kept.</summary>
    public const int Capacity = 32;

    private static readonly ConcurrentDictionary<string, Lazy<QueryScript>> s_scripts = new(StringComparer.Ordinal);
    private static long s_compilations;

    /// <summary>Gets how many scripts this process has compiled through the cache.</summary>
    public static long Compilations => Interlocked.Read(ref s_compilations);

    /// <summary>Gets the script named <paramref name="path"/> with the text <paramref name="code"/>, compiled.</summary>
    /// <exception cref="ScriptContractException">The script does not compile; the message has every error at its line.</exception>
    public static QueryScript Get(string path, string code)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(code);
        string key = path + "\n" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(code)));
        if (s_scripts.Count >= Capacity && !s_scripts.ContainsKey(key))
        {
            s_scripts.Clear();
        }

        return s_scripts.GetOrAdd(key, _ => new Lazy<QueryScript>(() => Compile(path, code))).Value;
    }

    private static QueryScript Compile(string path, string code)
    {
        Interlocked.Increment(ref s_compilations);
        var script = QueryScript.FromText(path, code);
        var errors = script.Compile().Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        return errors.Length > 0 ? throw new ScriptContractException(string.Join(Environment.NewLine, errors.Select(script.Format))) : script;
    }
}
