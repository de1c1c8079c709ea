namespace LinqStream.Cli;

/// <summary>The process exit codes of <c>linqstream</c>.</summary>
internal static class ExitCodes
{
    /// <summary>The command ran to the end.</summary>
    public const int Ok = 0;

    /// <summary>The command started but failed (a query error, an exception).</summary>
    public const int Failure = 1;

    /// <summary>The command line could not be parsed: unknown verb or option, bad value.</summary>
    public const int Usage = 2;

    /// <summary>The query script does not compile, does not translate into a streaming plan, or breaks the <c>run</c> contract.</summary>
    public const int BadQuery = 3;

    /// <summary>The input cannot be read: no schema or time field, or a malformed line under <c>--strict</c>.</summary>
    public const int BadInput = 4;
}
