namespace LinqStream.Cli.Input;

/// <summary>The input file as a whole cannot be read as asked (no valid record, no time field): the run stops with exit code 4.</summary>
internal sealed class InputSchemaException(string message) : Exception(message);

/// <summary>A malformed line under <c>--strict</c>: the stream fails with it and the run exits with code 4.</summary>
internal sealed class MalformedInputException(string message) : Exception(message);
