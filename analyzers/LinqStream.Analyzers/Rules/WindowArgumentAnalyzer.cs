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
            Report(context, invocation, "hop", h.Argument, "is larger than its size '" + s.Argument.Value.Syntax + "', which the operator rejects; make the hop at most the size (equal to the size is a tumbling window)");
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
            Report(context, invocation, parameter, argument, $"is {(ticks == 0 ? "zero" : "negative")}; give the window a {name} greater than zero");
        }

        return (ticks, argument);
    }

    private static void Report(OperationAnalysisContext context, IInvocationOperation invocation, string parameter, IArgumentOperation argument, string problem) =>
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.InvalidWindowArgument,
            argument.Value.Syntax.GetLocation(),
            parameter == "maxDuration" ? "maximum duration" : parameter,
            argument.Value.Syntax.ToString(),
            invocation.TargetMethod.Name,
            problem));
}
