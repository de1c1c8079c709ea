using System.IO.Compression;
using System.Reflection;
using System.Text.RegularExpressions;

namespace LinqStream.Notebooks.Tests;

/// <summary>The packages in the real kernel: they load next to its own assemblies, register their display, and show running queries.</summary>
[Trait("Category", "Slow")] // Slow (fast suite skips it): runs the real .NET Interactive kernel
[Collection(KernelCollection.Name)]
public sealed partial class KernelTests(KernelFixture fixture)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(3);

    [Fact]
    public void Package_SystemReactiveItAsksFor_IsNoNewerThanTheKernels()
    {
        var kernels = AssemblyName.GetAssemblyName(KernelAssembly("System.Reactive.dll")).Version!;
        using var package = ZipFile.OpenRead(Path.Combine(fixture.Feed, $"LinqStream.{fixture.Version}.nupkg"));
        var entry = package.GetEntry("lib/net10.0/LinqStream.dll")!;
        string dll = Path.Combine(Path.GetDirectoryName(fixture.Feed)!, "LinqStream.dll");
        entry.ExtractToFile(dll, overwrite: true);

        var asked = AssemblyName.GetAssemblyName(dll).Version;
        var reactive = ReferencedAssemblies(dll).Single(a => a.Name == "System.Reactive").Version!;

        Assert.NotNull(asked);
        Assert.True(reactive <= kernels, $"LinqStream.dll references System.Reactive {reactive}; the kernel loads {kernels}, so the package cannot load there.");
    }

    [Fact]
    public async Task Packages_InTheKernel_RunAnRxQueryWithTheKernelsSystemReactive()
    {
        await LoadPackagesAsync();

        var result = await SubmitAsync("""
            var subject = new System.Reactive.Subjects.ReplaySubject<long>(); // a ReplaySubject: the query may subscribe after the OnNext calls below
            var counted = QStream.From(subject, t => t).TumblingWindow(TimeSpan.FromTicks(10)).Select(w => w.Count());
            var task = counted.ToListAsync();
            foreach (long t in new long[] { 1, 2, 11, 25 }) subject.OnNext(t);
            subject.OnCompleted();
            $"{string.Join(",", await task)} with System.Reactive {typeof(System.Reactive.Linq.Observable).Assembly.GetName().Version}"
            """);

        Assert.Equal($"2,1,1 with System.Reactive {AssemblyName.GetAssemblyName(KernelAssembly("System.Reactive.dll")).Version}", result.ReturnValue!.Values["text/plain"]);
    }

    [Fact]
    public async Task Extension_LoadedByTheNugetReference_DisplaysResultsAsTablesWithoutARegisterCall()
    {
        await LoadPackagesAsync();

        var result = await SubmitAsync("await QStream.From(new long[] { 1, 2, 3 }, t => t).Where(t => t > 1).ToListAsync()");

        Assert.Equal("<table class=\"linqstream\"><thead><tr><th>value</th></tr></thead><tbody><tr><td>2</td></tr><tr><td>3</td></tr></tbody></table><p><i>2 rows</i></p>", result.ReturnValue!.Values["text/html"]);
    }

    [Fact]
    public async Task ExplainPlan_InTheKernel_DisplaysAsPreformattedText()
    {
        await LoadPackagesAsync();

        var result = await SubmitAsync("QStream.From(new long[] { 1, 2, 3 }, t => t).Where(t => t > 1).ExplainPlan()");

        Assert.StartsWith("<pre class=\"linqstream-plan\">Logical plan:", result.ReturnValue!.Values["text/html"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisplayLiveAsync_InTheKernel_UpdatesTheViewInPlaceThenShowsTheFinalTable()
    {
        await LoadPackagesAsync();

        var result = await SubmitAsync("""
            var ticks = Enumerable.Range(0, 1_000).Select(i => (long)i * TimeSpan.TicksPerSecond).ToArray();
            var perWindow = QStream.From(ticks, t => t).TumblingWindow(TimeSpan.FromSeconds(10)).Select(w => new { w.Window.End, Events = w.Count() });
            var all = await perWindow.DisplayLiveAsync(new LiveDisplayOptions { UpdateEveryResults = 25, RefreshInterval = System.Threading.Timeout.InfiniteTimeSpan });
            all.Count.ToString()
            """);

        var views = result.Outputs.Where(o => o.EventType is "DisplayedValueProduced" or "DisplayedValueUpdated").ToArray();
        Assert.Equal("DisplayedValueProduced", views[0].EventType);
        // Every update replaces the same displayed value (this kernel gives the updates one id of their own, not the first display's).
        Assert.All(views[1..], v => Assert.Equal(("DisplayedValueUpdated", views[1].DisplayId), (v.EventType, v.DisplayId)));
        var running = views[1..^1].Select(v => v.Values["text/html"]).ToArray();
        Assert.Equal(4, running.Length);
        Assert.All(running, (html, i) => Assert.Contains($", {(i + 1) * 25} results</b>", html, StringComparison.Ordinal));
        string final = views[^1].Values["text/html"];
        Assert.StartsWith("<div class=\"linqstream-live\"><p><b>completed: 100 results</b></p><table class=\"linqstream\"><thead><tr><th>End</th><th>Events</th></tr>", final, StringComparison.Ordinal);
        Assert.EndsWith("<p><i>100 rows</i></p></div>", final, StringComparison.Ordinal);
        Assert.Equal("100", result.ReturnValue!.Values["text/plain"]);
    }

    [Fact]
    public async Task DisplayLiveAsync_CellCancelled_StopsTheQuery()
    {
        await LoadPackagesAsync();
        int updates = 0;

        // The counter and the query are declared in a cell of their own: whether a cancelled cell's variables reach the next
        // cell depends on where the kernel's cancellation lands (inside the script or around it), so the test does not rely on it.
        await SubmitAsync("""
            long produced = 0;
            async IAsyncEnumerable<long> Endless()
            {
                for (long i = 0; ; i++)
                {
                    if (i % 100 == 0) await Task.Delay(5);
                    produced = i;
                    yield return i * TimeSpan.TicksPerMillisecond;
                }
            }
            var endless = QStream.From(Endless(), t => t).TumblingWindow(TimeSpan.FromSeconds(1)).Select(w => new { w.Window.End, Events = w.Count() });
            """);
        var cancelled = await fixture.Kernel.SubmitAsync("""
            await endless.DisplayLiveAsync(new LiveDisplayOptions { UpdateEveryResults = 1 });
            """,
            s_timeout,
            output =>
            {
                if (output.EventType == "DisplayedValueUpdated" && Interlocked.Increment(ref updates) == 2)
                {
                    fixture.Kernel.Cancel();
                }
            });
        var after = await SubmitAsync("var before = produced; await Task.Delay(300); $\"{before == produced} {before > 0}\"");

        Assert.False(cancelled.Succeeded);
        Assert.Equal("True True", after.ReturnValue!.Values["text/plain"]);
    }

    private async Task LoadPackagesAsync() =>
        await SubmitAsync($"#i \"nuget: {fixture.Feed}\"\n#r \"nuget: LinqStream.Interactive, *-*\"\nusing LinqStream;\nusing LinqStream.Interactive;");

    private async Task<KernelResult> SubmitAsync(string code)
    {
        var result = await fixture.Kernel.SubmitAsync(code, s_timeout);
        Assert.True(result.Succeeded, result.Error);
        return result;
    }

    private static string KernelAssembly(string file)
    {
        string tools = Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"), "microsoft.dotnet-interactive");
        string version = ToolVersion().Match(File.ReadAllText(Path.Combine(KernelFixture.RepositoryRoot, "dotnet-tools.json"))).Groups["version"].Value;
        return Directory.EnumerateFiles(Path.Combine(tools, version, "tools"), file, SearchOption.AllDirectories).First();
    }

    private static AssemblyName[] ReferencedAssemblies(string file)
    {
        using var stream = File.OpenRead(file);
        using var reader = new System.Reflection.PortableExecutable.PEReader(stream);
        var metadata = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(reader);
        return [.. metadata.AssemblyReferences.Select(h => metadata.GetAssemblyReference(h).GetAssemblyName())];
    }

    [GeneratedRegex(@"""microsoft\.dotnet-interactive""\s*:\s*\{\s*""version""\s*:\s*""(?<version>[^""]+)""")]
    private static partial Regex ToolVersion();
}
