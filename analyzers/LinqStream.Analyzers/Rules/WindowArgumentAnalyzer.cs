using System.Collections.Immutable;
using LinqStream.Analyzers.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace LinqStream.Analyzers;

/// <summary>LSQ0004: a constant window size, hop, gap or maximum duration that is not positive, or a hop larger than the size.</summary>
/// <remarks>
/// A local with a single value and a static readonly field are followed to their constant. Other arguments (a parameter, a configuration
/// value) are not reported; the operator checks them when the query is built.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class WindowArgumentAnalyzer : DiagnosticAnalyzer
{
    /// <summary>The diagnostic property naming the fix the code-fix provider can apply.</summary>
    internal const string FixProperty = "Fix";

    /// <summary>Fix: a negative length becomes its magnitude.</summary>
    internal const string MagnitudeFix = "Magnitude";

    /// <summary>Fix: the hop and the size (the additional location) trade places.</summary>
    internal const string SwapFix = "Swap";

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(DiagnosticDescriptors.InvalidWindowArgument);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            var known = KnownSymbols.TryCreate(start.Compilation);
            if (known is not null)
            {
                start.RegisterOperationAction(c => Analyze(c, known), OperationKind.Invocation);
            }
        });
    }

    private static void Analyze(OperationAnalysisContext context, KnownSymbols known)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        if (method.Name is not ("TumblingWindow" or "HoppingWindow" or "SessionWindow") || !SymbolEqualityComparer.Default.Equals(method.ContainingType, known.QStream))
        {
            return;
        }

        var flow = known.Flow;
        var size = Check(context, invocation, "size", flow);
        var hop = Check(context, invocation, "hop", flow);
        Check(context, invocation, "gap", flow);
        Check(context, invocation, "maxDuration", flow);
        if (size is { Ticks: > 0 } s && hop is { Ticks: > 0 } h && h.Ticks > s.Ticks)
        {
            Report(context, invocation, "hop", h.Argument, "is larger than its size '" + s.Argument.Value.Syntax + "', which the operator rejects; make the hop at most the size (equal to the size is a tumbling window)",
                SwapFix, s.Argument.Value.Syntax.GetLocation());
        }
    }

    /// <summary>Reports a constant argument that is not positive; returns its value (or null when it is not a constant).</summary>
    private static (long Ticks, IArgumentOperation Argument)? Check(OperationAnalysisContext context, IInvocationOperation invocation, string parameter, ValueFlow flow)
    {
        var argument = QueryOperations.Argument(invocation, parameter);
        if (argument is null || argument.ArgumentKind == ArgumentKind.DefaultValue || TimeSpanConstant.TryEvaluate(argument.Value, flow) is not { } ticks)
        {
            return null;
        }

        if (ticks <= 0)
        {
            string name = parameter == "maxDuration" ? "maximum duration" : parameter;
            // A negative length is read as its magnitude (the sign is the slip); zero has no such reading, so no fix is offered for it.
            Report(context, invocation, parameter, argument, $"is {(ticks == 0 ? "zero" : "negative")}; give the window a {name} greater than zero", ticks < 0 ? MagnitudeFix : null, null);
        }

        return (ticks, argument);
    }

    private static void Report(OperationAnalysisContext context, IInvocationOperation invocation, string parameter, IArgumentOperation argument, string problem, string? fix, Location? other) =>
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.InvalidWindowArgument,
            argument.Value.Syntax.GetLocation(),
            other is null ? ImmutableArray<Location>.Empty : ImmutableArray.Create(other),
            fix is null ? ImmutableDictionary<string, string?>.Empty : ImmutableDictionary<string, string?>.Empty.Add(FixProperty, fix),
            parameter == "maxDuration" ? "maximum duration" : parameter,
            argument.Value.Syntax.ToString(),
            invocation.TargetMethod.Name,
            problem));
}
