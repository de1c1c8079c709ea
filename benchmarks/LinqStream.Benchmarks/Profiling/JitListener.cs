using System.Diagnostics.Tracing;
using System.Globalization;

namespace LinqStream.Benchmarks.Profiling;

/// <summary>
/// The methods the JIT compiled while it listened (the runtime's own <c>MethodLoadVerbose</c> events, in process), by name and
/// optimization tier, most frequent first, so that code compiled again on every run (a new generic instantiation or dynamic
/// method per query) shows up by name, and the runtime's own tier-up (tier 0, then tier 1 or on-stack replacement of the same
/// method) can be told apart from it. Used by <c>--profile ... --jit</c> and <c>--parallelism --jit</c>.
/// </summary>
internal sealed class JitListener : EventListener
{
    // MethodFlags of MethodLoadVerbose: bit 0 is a dynamic method (LCG: Expression.Compile, DynamicMethod); bits 7–9 the tier
    // (the runtime's ETW::MethodLog::JitOptimizationTier).
    private static readonly string[] Tiers = ["unknown", "min-opts", "full-opts", "tier0", "tier1", "tier1-osr", "tier0-instrumented", "tier1-instrumented"];
    private readonly Dictionary<string, int> _methods = [];
    private readonly Dictionary<string, int> _tiers = [];
    private volatile bool _listening = true;

    /// <summary>Stops listening and describes what was compiled: the count by tier, then the <paramref name="top"/> most frequent methods.</summary>
    public string Describe(int top = 25)
    {
        _listening = false;
        lock (_methods)
        {
            int total = _methods.Values.Sum();
            string tiers = string.Join(", ", _tiers.OrderByDescending(t => t.Value).Select(t => t.Value.ToString(CultureInfo.InvariantCulture) + " " + t.Key));
            return total.ToString(CultureInfo.InvariantCulture) + " methods (" + tiers + "); "
                + string.Join("; ", _methods.OrderByDescending(m => m.Value).ThenBy(m => m.Key, StringComparer.Ordinal).Take(top).Select(m => m.Value.ToString(CultureInfo.InvariantCulture) + "× " + m.Key));
        }
    }

    /// <inheritdoc/>
    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)0x10); // JitKeyword
        }
    }

    /// <inheritdoc/>
    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_listening || eventData.EventName is not { } name || !name.StartsWith("MethodLoadVerbose", StringComparison.Ordinal) || eventData.Payload is not { } payload)
        {
            return;
        }

        var names = eventData.PayloadNames!;
        int ns = names.IndexOf("MethodNamespace"), method = names.IndexOf("MethodName"), flagsAt = names.IndexOf("MethodFlags");
        uint flags = flagsAt >= 0 ? Convert.ToUInt32(payload[flagsAt], CultureInfo.InvariantCulture) : 0;
        string tier = ((flags & 1) != 0 ? "dynamic " : string.Empty) + Tiers[(flags >> 7) & 7];
        string key = (ns >= 0 ? payload[ns] : "?") + "::" + (method >= 0 ? payload[method] : "?") + " [" + tier + "]";
        lock (_methods)
        {
            _methods[key] = _methods.GetValueOrDefault(key) + 1;
            _tiers[tier] = _tiers.GetValueOrDefault(tier) + 1;
        }
    }
}
