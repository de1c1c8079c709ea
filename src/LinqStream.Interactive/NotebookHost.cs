namespace LinqStream.Interactive;

/// <summary>
/// The notebook kernel, as LinqStream.Interactive sees it: a way to show a value that can later be replaced in place, and the running cell's
/// cancellation. The kernel extension (<c>extension.dib</c>, run by <c>#r "nuget: LinqStream.Interactive"</c>) connects it, so that this
/// library does not depend on the kernel's own packages.
/// </summary>
public static class NotebookHost
{
    private static volatile Connection? s_connection;

    /// <summary>Gets a value indicating whether a kernel has connected (<see cref="Connect"/>).</summary>
    public static bool IsConnected => s_connection is not null;

    /// <summary>Connects the notebook kernel; a later call replaces the earlier connection.</summary>
    /// <param name="display">Shows a value in the running cell's output and returns an action that replaces what it showed (a display update).</param>
    /// <param name="cellCancellation">Gives the running cell's cancellation token (cancelled when the user stops the cell).</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static void Connect(Func<object, Action<object>> display, Func<CancellationToken> cellCancellation)
    {
        ArgumentNullException.ThrowIfNull(display);
        ArgumentNullException.ThrowIfNull(cellCancellation);
        s_connection = new Connection(display, cellCancellation);
    }

    /// <summary>Disconnects the kernel: live displays then run without showing anything.</summary>
    public static void Disconnect() => s_connection = null;

    /// <summary>Shows <paramref name="value"/> and returns the action that replaces it, or null when no kernel is connected.</summary>
    internal static Action<object>? Display(object value) => s_connection?.Display(value);

    /// <summary>The running cell's cancellation token, or none outside a kernel.</summary>
    internal static CancellationToken CellCancellation => s_connection?.CellCancellation() ?? CancellationToken.None;

    private sealed record Connection(Func<object, Action<object>> Display, Func<CancellationToken> CellCancellation);
}
