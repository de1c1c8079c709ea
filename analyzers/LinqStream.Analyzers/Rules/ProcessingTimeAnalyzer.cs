using System.Collections.Immutable;
using LinqStream.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace LinqStream.Analyzers;

/// <summary>LSQ0002: the wall clock, a stopwatch, <c>Random</c> or <c>Guid.NewGuid</c> read inside a query lambda.</summary>
/// <remarks>
/// The same calls outside query lambdas (before building the query, in <c>Subscribe</c>'s callback) are fine and not reported. A helper
/// method of the compilation that reads them (or an <c>Interlocked</c> counter), called from a query lambda, is reported at the call.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ProcessingTimeAnalyzer : DiagnosticAnalyzer
{
    private const string Clock = "the processing-time clock";
    private const string Random = "a random value";
    private const string Counter = "a shared counter (the order events are processed in)";

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(DiagnosticDescriptors.ProcessingTime);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        QueryLambdaMemberRule.Register(context, DiagnosticDescriptors.ProcessingTime, known => new Sources(known).Classify);
    }

    /// <summary>The members that read the clock or produce random values.</summary>
    private sealed class Sources(KnownSymbols known)
    {
        private readonly INamedTypeSymbol? _dateTime = known.Compilation.GetSpecialType(SpecialType.System_DateTime);
        private readonly INamedTypeSymbol? _dateTimeOffset = known.Get("System.DateTimeOffset");
        private readonly INamedTypeSymbol? _environment = known.Get("System.Environment");
        private readonly INamedTypeSymbol? _stopwatch = known.Get("System.Diagnostics.Stopwatch");
        private readonly INamedTypeSymbol? _random = known.Get("System.Random");
        private readonly INamedTypeSymbol? _guid = known.Get("System.Guid");
        private readonly INamedTypeSymbol? _timeProvider = known.Get("System.TimeProvider");
        private readonly INamedTypeSymbol? _interlocked = known.Get("System.Threading.Interlocked");

        /// <summary>Returns what <paramref name="operation"/> reads (the clock or a random value), or null when it is deterministic.</summary>
        public string? Classify(IOperation operation) => operation switch
        {
            IPropertyReferenceOperation property => Property(property.Property),
            IInvocationOperation invocation => Method(invocation.TargetMethod),
            IObjectCreationOperation creation when KnownSymbols.IsOrDerives(creation.Type, _random) => Random,
            IObjectCreationOperation creation when KnownSymbols.Is(creation.Type, _stopwatch) => Clock,
            _ => null,
        };

        private string? Property(IPropertySymbol property)
        {
            var type = property.ContainingType;
            return property.Name switch
            {
                "Now" or "UtcNow" or "Today" when KnownSymbols.Is(type, _dateTime) => Clock,
                "Now" or "UtcNow" when KnownSymbols.Is(type, _dateTimeOffset) => Clock,
                "TickCount" or "TickCount64" when KnownSymbols.Is(type, _environment) => Clock,
                "Shared" when KnownSymbols.Is(type, _random) => Random,
                _ when KnownSymbols.Is(type, _stopwatch) => Clock,
                _ => null,
            };
        }

        private string? Method(IMethodSymbol method)
        {
            var type = method.ContainingType;
            return method.Name switch
            {
                "NewGuid" or "CreateVersion7" when KnownSymbols.Is(type, _guid) && method.Parameters.Length == 0 => Random,
                "GetUtcNow" or "GetLocalNow" or "GetTimestamp" or "GetElapsedTime" when KnownSymbols.IsOrDerives(type, _timeProvider) => Clock,
                _ when KnownSymbols.Is(type, _stopwatch) => Clock,
                _ when KnownSymbols.Is(type, _interlocked) => Counter,
                _ when KnownSymbols.IsOrDerives(type, _random) && !method.IsStatic => Random,
                _ => null,
            };
        }
    }
}
