namespace LinqStream.Cli.Scripting;

/// <summary>The script does not keep the <c>linqstream run</c> contract (its last expression is not a query, its record has no time property): exit code 3.</summary>
internal sealed class ScriptContractException(string message) : Exception(message);
