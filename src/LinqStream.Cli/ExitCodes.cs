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
}
