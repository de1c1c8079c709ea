namespace LinqStream.Cli.Tests.EndToEnd;

/// <summary>A folder of its own for one test's scripts, inputs and outputs, deleted afterwards.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "linqstream-cli-tests", Guid.NewGuid().ToString("N"));

    public string Write(string name, string content)
    {
        string file = File(name);
        System.IO.File.WriteAllText(file, content);
        return file;
    }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A file still open by a killed process: the OS temp cleaner will take it.
        }
    }
}
